"""Progress on stderr: a spinner or a bar per stage with rate and ETA (:class:`Log`, which every
audit takes as its progress), and the image bar of ``faceaudit embed``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console

__all__ = ["Log", "err_console", "image_bar"]

err_console = Console(stderr=True)


class Log:
    """Progress on stderr (a spinner or a bar per stage, with rate and ETA), kept for the log.

    Implements :class:`faceaudit.audits.Progress`.
    """

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.lines: list[str] = []

    @contextlib.contextmanager
    def stage(self, text: str) -> Iterator[None]:
        t0 = time.perf_counter()
        if self.quiet:
            yield
        else:
            with err_console.status(text + " ..."):
                yield
        self._done(text, t0)

    @contextlib.contextmanager
    def bar(self, description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
        t0 = time.perf_counter()
        if self.quiet:
            yield lambda done, total: None
        else:
            with _rich_bar(description, unit) as update:
                yield update
        self._done(description, t0)

    def _done(self, text: str, t0: float) -> None:
        dt = time.perf_counter() - t0
        self.lines.append(f"{text}: {dt:.2f} s")
        if not self.quiet:
            err_console.print(f"[green]✓[/green] {text} [dim]({dt:.2f} s)[/dim]", highlight=False)

    def note(self, text: str) -> None:
        self.lines.append(text)
        if not self.quiet:
            err_console.print(text, markup=False, highlight=False)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _bar(first: str, unit: str, extra: tuple = (), console=None):
    """A rich progress bar: ``first`` column, bar, done of total, rate in ``unit``/s, ``extra``
    columns, elapsed time and ETA (one layout for every bar faceaudit shows)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.1f} {unit}/s", style="cyan")

    return Progress(
        TextColumn(first),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        *(TextColumn(c) for c in extra),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or err_console,
    )


@contextlib.contextmanager
def _rich_bar(description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    with _bar("{task.description}", unit) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        yield update


def image_bar(console, total: int, model: str):
    """A started bar of images embedded (rate, cached, failed, ETA) and its update callback."""
    bar = _bar(
        "[bold]{task.fields[model]}[/bold]",
        "img",
        ("cached {task.fields[cached]} failed {task.fields[failed]}",),
        console,
    )
    task = bar.add_task("embed", total=total, model=model, cached=0, failed=0)
    bar.start()

    def update(p) -> None:
        bar.update(task, completed=p.done, cached=p.cached, failed=p.failed)

    return update, bar
