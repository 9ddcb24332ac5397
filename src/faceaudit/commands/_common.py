"""Shared pieces of the sub-commands: stage progress on stderr, option parsing helpers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console

from faceaudit.errors import InputError

err_console = Console(stderr=True)


class Log:
    """Stage timings shown on stderr (spinner while a stage runs) and kept for ``faceaudit.log``."""

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
        dt = time.perf_counter() - t0
        self.lines.append(f"{text}: {dt:.2f} s")
        if not self.quiet:
            err_console.print(f"[green]✓[/green] {text} [dim]({dt:.2f} s)[/dim]")

    def note(self, text: str) -> None:
        self.lines.append(text)
        if not self.quiet:
            err_console.print(text)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def parse_floats(values: list[str] | None, option: str) -> list[float]:
    """Floats from repeated or comma-separated option values (e.g. ``--fmr-target 1e-3,1e-4``)."""
    out: list[float] = []
    for v in values or []:
        for part in str(v).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                out.append(float(part))
            except ValueError:
                raise InputError(f"{option} takes numbers; {part!r} is not one.") from None
    return out


def check_targets(targets: list[float], option: str) -> None:
    for t in targets:
        if not 0.0 < t <= 1.0:
            raise InputError(f"{option} {t!r} is not a rate in (0, 1].")


def check_bootstrap(bootstrap: int, confidence: float) -> None:
    if bootstrap < 0:
        raise InputError("--bootstrap must be 0 (no intervals) or a positive number of replicates.")
    if 0 < bootstrap < 100:
        raise InputError("--bootstrap below 100 replicates gives unstable intervals; use >= 100.")
    if not 0.5 <= confidence < 1.0:
        raise InputError("--confidence must be in [0.5, 1), e.g. 0.95.")


# Options every audit command shares (Typer reads these objects as the parameters' defaults).
CONFIDENCE_OPTION = typer.Option(0.95, help="Confidence level of the intervals.")
OUT_OPTION = typer.Option(None, "--out", help="Output folder (results.json, report).")
JSON_OPTION = typer.Option(
    None, "--json", help="Also write results.json here; '-' prints it on stdout."
)
FORCE_OPTION = typer.Option(False, "--force", help="Replace an existing output.")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="No progress on stderr.")


def check_destination(out, json_out: str | None, force: bool) -> None:
    """Results must go somewhere; an existing output folder needs ``--force``."""
    if out is None and json_out is None:
        raise InputError("say where results go: --out DIR (report and results.json) or --json -.")
    if out is not None and out.exists() and not force:
        raise InputError("the output folder already exists; pass --force to replace it.", path=out)


@contextlib.contextmanager
def progress_bar(description: str, unit: str, quiet: bool) -> Iterator:
    """A rich progress bar (count, rate, ETA) on stderr; yields ``update(done, total)``."""
    if quiet:
        yield lambda done, total: None
        return
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
            return Text("" if speed is None else f"{speed:,.0f} {unit}/s", style="cyan")

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err_console,
    ) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        yield update


def write_results(results: dict, out: Path | None, json_out: str | None, force: bool, log: Log):
    """results.json (+ report.html when the report module can render it) and/or --json."""
    from faceaudit.results import emit_json, write_output

    if out is not None:
        with log.stage("writing results and report"):
            write_output(results, out, force=force, log=log.text())
        log.note(f"results: {out / 'results.json'}")
    if json_out is not None:
        emit_json(results, json_out, force=force)
