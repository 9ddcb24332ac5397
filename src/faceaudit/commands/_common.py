"""What every sub-command shares: its options (declared once), progress on stderr, the output.

A command body is: parse option strings, read the inputs (:mod:`faceaudit.io`), call ONE audit
(:mod:`faceaudit.audits`) with a :class:`Log` as its progress, and :func:`finish`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from rich.console import Console

from faceaudit.errors import InputError

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


@contextlib.contextmanager
def _rich_bar(description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
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


def parse_floats(values: list[str] | None, option: str) -> list[float]:
    """Numbers from repeated or comma-separated option values (``--fmr-target 1e-3,1e-4``)."""
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


# Options several commands share (Typer reads these objects as the parameters' defaults).
CONFIDENCE = typer.Option(0.95, help="Two-sided confidence level of the intervals.")
SEED = typer.Option(0, help="Seed of the bootstrap (and of any random split).")
OUT = typer.Option(None, "--out", help="Output folder (results.json, report.html, figures/).")
JSON = typer.Option(None, "--json", help="Also write results.json here; '-' prints it on stdout.")
FORCE = typer.Option(
    False, "--force", help="Replace an existing output that faceaudit wrote (nothing else)."
)
QUIET = typer.Option(False, "--quiet", "-q", help="No progress on stderr.")
FMR_TARGET = typer.Option(
    None, "--fmr-target", help="FMR targets (repeat or comma-separate). Default 1e-1 ... 1e-6."
)
FPIR_TARGET = typer.Option(
    None, "--fpir-target", help="FPIR targets (repeat or comma-separate). Default 0.1 ... 0.001."
)
THRESHOLD = typer.Option(
    None, "--threshold", help="Also report the rates at these thresholds (the scores' own units)."
)
ENROL = typer.Option(
    "first",
    help="Which gallery samples enrol: 'first' per subject (NIST), 'all', or a file of ids.",
)
TITLE_HELP = "Report title."
SCHEDULER = typer.Option(
    None,
    "--scheduler",
    help="Run the comparisons on this Dask scheduler (tcp://host:8786), or 'local:N' for a local "
    "cluster of N workers. Needs faceaudit[dask].",
)
CLUSTER_WORKERS = typer.Option(
    None, "--workers", help="Run the comparisons on a local Dask cluster of N worker processes."
)
WORK_DIR = typer.Option(
    None,
    "--work-dir",
    help="Work folder for block products (a rerun resumes from them); on a cluster, a folder "
    "the workers share.",
)


def cluster(scheduler: str | None, workers: int | None, work_dir: Path | None = None):
    """Context in which the audit's comparisons run where ``--scheduler``/``--workers`` say."""
    from faceaudit.compare.execute import executor_for, use_executor

    return use_executor(executor_for(scheduler, workers, work_dir))


def bootstrap_option(default: int) -> typer.models.OptionInfo:
    return typer.Option(
        default, help="Subject-bootstrap replicates (0: no intervals; else >= 100)."
    )


def destination(out: Path | None, json_out: str | None, force: bool, quiet: bool) -> Log:
    """Fail fast on a destination that will be refused; the run's Log (quiet for ``--json -``)."""
    from faceaudit.output import check_destination

    if out is None and json_out is None:
        raise InputError("say where results go: --out DIR (report and results.json) or --json -.")
    if out is not None:
        check_destination(out, force=force)
    if json_out not in (None, "-"):
        check_destination(Path(json_out), force=force, kind="file")
    return Log(quiet=quiet or (json_out == "-" and out is None))


def read_enrol(enrol: str) -> str | list[str]:
    """``first``, ``all``, or the sample ids listed in a file (one per line)."""
    if enrol in ("first", "all"):
        return enrol
    from faceaudit.io.embeddings import read_sample_ids

    return read_sample_ids(enrol)


#: The arguments of the running command (set by :func:`faceaudit.cli.main`), for the record.
COMMAND_LINE: list[str] = []


def recorded(run):
    """``run`` with the command line in ``settings.command_line`` (for reproducibility): the only
    difference between a command's results.json and that of the same library call."""
    from dataclasses import replace

    if not COMMAND_LINE:
        return run
    return replace(run, settings={**run.settings, "command_line": ["faceaudit", *COMMAND_LINE]})


def finish(run, out: Path | None, json_out: str | None, force: bool, log: Log) -> None:
    """Write the run (with its command line): the output folder and/or ``--json``."""
    run = recorded(run)
    if out is not None:
        with log.stage("writing results and report"):
            run.write(out, force=force, log=log.text())
        log.note(f"results: {out / 'results.json'}")
    if json_out is not None:
        run.write_json(json_out, force=force)
