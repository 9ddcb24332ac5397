"""``faceaudit demo``: the whole audit, end to end, on a built-in synthetic data set."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C


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
    bootstrap: int = C.bootstrap_option(1000),
    seed: int = typer.Option(20261129, help="Seed of the synthetic data."),
    quiet: bool = C.QUIET,
) -> None:
    """Run the whole audit (1:1, demographics, 1:N, gallery scale) on built-in SYNTHETIC data."""
    from faceaudit.audits import audit_demo

    log = C.Log(quiet=quiet)
    run = C.recorded(audit_demo(seed=seed, bootstrap=bootstrap, progress=log))
    out = _free_name(out)
    with log.stage("writing report"):
        run.write(out, log=log.text())
    log.note(f"report: {out / 'report.html'}")
