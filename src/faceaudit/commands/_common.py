"""What every sub-command shares: its options (declared once), progress on stderr, the output.

A command body is: parse option strings, read the inputs (:mod:`faceaudit.io`), call ONE audit
(:mod:`faceaudit.audits`) with a :class:`Log` as its progress, and :func:`finish`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands._progress import Log, err_console
from faceaudit.errors import InputError

__all__ = ["Log", "err_console", "parse_floats", "parse_model"]


def parse_model(model: str, model_option: list[str] | None) -> tuple[str, dict]:
    """``--model`` and ``-O key=value`` options as (registry name, options)."""
    options: dict[str, str] = {}
    for item in model_option or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"-O/--model-option takes key=value, e.g. detector=cnn; got {item!r}.")
        options[key.strip()] = value.strip()
    name = model
    if model.startswith("onnx:"):
        name = "onnx"
        options.setdefault("path", model[len("onnx:") :])
    return name, options


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
