"""``faceaudit impact``: what a hit means — from a 1:N audit's counts, or from field logs."""

from __future__ import annotations

from pathlib import Path

import typer

from faceaudit.commands import _common as C
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("impact")(impact)


def _ratio(text: str | None, option: str) -> tuple[int, int] | None:
    if text is None:
        return None
    k, sep, n = text.partition("/")
    try:
        if sep:
            return int(k), int(n)
    except ValueError:
        pass
    raise InputError(f"{option} takes COUNT/N, e.g. 12/5000; got {text!r}.")


def impact(
    results: Path | None = typer.Option(
        None, "--results", help="A faceaudit results.json with 1:N results (identify, audit)."
    ),
    fpir_target: float | None = typer.Option(
        None, "--fpir-target", help="With --results: the operating point (default: first)."
    ),
    fpir: str | None = typer.Option(
        None, "--fpir", help="Non-mated searches with a hit: COUNT/N (e.g. 12/5000)."
    ),
    fnir_rank1: str | None = typer.Option(
        None, "--fnir-rank1", help="Mated searches without the mate at rank 1 above T: COUNT/N."
    ),
    wrong_top1: str | None = typer.Option(
        None, "--wrong-top1", help="Mated searches showing someone else at rank 1: COUNT/N."
    ),
    gallery_size: int | None = typer.Option(None, "--gallery-size", help="Gallery size N."),
    encounters_per_day: float = typer.Option(1000.0, help="People searched a day (assumed)."),
    prevalence: list[str] | None = typer.Option(
        None, "--prevalence", help="Shares of encountered people enrolled, to report (e.g. 0.01)."
    ),
    alerts: int | None = typer.Option(None, "--alerts", help="Field log: alerts raised."),
    confirmed_wrong: int | None = typer.Option(
        None, "--confirmed-wrong", help="Field log: alerts confirmed to be the wrong person."
    ),
    scanned: int | None = typer.Option(None, "--scanned", help="Field log: faces scanned."),
    watchlist: int | None = typer.Option(None, "--watchlist", help="Field log: watchlist size."),
    unverified: int = typer.Option(0, help="Field log: alerts never verified."),
    source: str | None = typer.Option(None, help="Field log: the deployment (for the record)."),
    bootstrap: int = C.bootstrap_option(2000),
    confidence: float = C.CONFIDENCE,
    seed: int = C.SEED,
    out: Path | None = C.OUT,
    json_out: str | None = C.JSON,
    force: bool = C.FORCE,
    quiet: bool = C.QUIET,
) -> None:
    """PPV of a hit and wrong hits per day from 1:N counts; or a field log's PPV and FMR."""
    from faceaudit.audits.impact import SearchCounts, audit_field_log, audit_impact

    log = C.destination(out, json_out, force, quiet)
    if alerts is not None or confirmed_wrong is not None:
        if alerts is None or confirmed_wrong is None:
            raise InputError("a field log needs both --alerts A and --confirmed-wrong W.")
        run = audit_field_log(
            alerts=alerts,
            confirmed_wrong=confirmed_wrong,
            scanned=scanned,
            watchlist=watchlist,
            unverified=unverified,
            gallery_sizes=[gallery_size] if gallery_size else [],
            confidence=confidence,
            source=source,
        )
    else:
        inputs = []
        if results is not None:
            from faceaudit.io.results import identification_counts, read_results

            data, source_file = read_results(results)
            counts = identification_counts(data, fpir_target=fpir_target, path=results)
            inputs.append(source_file)
        else:
            given = [_ratio(v, o) for v, o in ((fpir, "--fpir"), (fnir_rank1, "--fnir-rank1"),
                                               (wrong_top1, "--wrong-top1"))]  # fmt: skip
            if None in given or gallery_size is None:
                raise InputError(
                    "give --results FILE, or --fpir K/N --fnir-rank1 K/N --wrong-top1 K/N "
                    "--gallery-size N, or a field log (--alerts A --confirmed-wrong W)."
                )
            (fp, n_nm), (fn1, n_m), (wr, n_m2) = given
            if n_m2 != n_m:
                raise InputError("--fnir-rank1 and --wrong-top1 count the same mated searches.")
            counts = dict(nonmated_hits=fp, n_nonmated=n_nm, mated_correct=n_m - fn1,
                          mated_wrong=wr, n_mated=n_m, gallery_size=gallery_size)  # fmt: skip
        run = audit_impact(
            SearchCounts(**counts),
            encounters_per_day=encounters_per_day,
            prevalence=C.parse_floats(prevalence, "--prevalence"),
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            inputs=inputs,
        )
    C.finish(run, out, json_out, force, log)
