"""``faceaudit demo``: the whole audit, end to end, on a built-in synthetic data set."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands._common import Log


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def _free_name(base: Path) -> Path:
    if not base.exists():
        return base
    k = 2
    while base.with_name(f"{base.name}-{k}").exists():
        k += 1
    return base.with_name(f"{base.name}-{k}")


def demo(
    out: Path = typer.Option(
        Path("faceaudit-demo"),
        "--out",
        help="Output folder. If it exists, a new numbered folder is used (nothing is overwritten).",
    ),
    bootstrap: int = typer.Option(1000, help="Bootstrap replicates for intervals."),
    seed: int = typer.Option(20261129, help="Seed of the synthetic data."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Run the whole audit (1:1, demographics, 1:N, gallery scale) on built-in SYNTHETIC data."""
    from faceaudit.demo import run_demo
    from faceaudit.results import write_output

    log = Log(quiet=quiet)
    out = _free_name(out)
    results = run_demo(seed=seed, bootstrap=bootstrap, stage=log.stage)
    with log.stage("writing report"):
        write_output(results, out, log=log.text())
    log.note(f"report: {out / 'report.html'}")
