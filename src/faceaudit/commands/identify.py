"""``faceaudit identify``: the 1:N (open-set identification) audit.

Black box: ``--candidates FILE --truth FILE --gallery-size N`` (or ``--gallery-subjects FILE``).
Grey box: ``--gallery FILE --probes FILE`` (embeddings; probes whose subject is not enrolled are
non-mated), or ``--embeddings FILE`` split here (``--held-out`` subjects become non-mated probes).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import typer

from faceaudit.commands._common import (
    CONFIDENCE_OPTION,
    FORCE_OPTION,
    JSON_OPTION,
    OUT_OPTION,
    QUIET_OPTION,
    Log,
    check_bootstrap,
    check_destination,
    check_targets,
    parse_floats,
    progress_bar,
    write_results,
)
from faceaudit.commands._demographics import (
    BY_OPTION,
    METADATA_OPTION,
    METADATA_SUBJECT_COLUMN_OPTION,
    THRESHOLD_FROM_OPTION,
    add_demographics,
    check_demographics_options,
    identification_demographics_from_options,
)
from faceaudit.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("identify")(identify)


class InputHashes:
    """SHA-256 of the input files, computed in a background thread while the audit runs."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._items: list[tuple[Path, Future, int | None]] = []

    def add(self, path: Path, records: int | None = None) -> None:
        from faceaudit.io.embeddings import file_sha256

        self._items.append((Path(path), self._pool.submit(file_sha256, path), records))

    def set_records(self, path: Path, records: int) -> None:
        self._items = [(p, f, records if p == Path(path) else r) for p, f, r in self._items]

    def to_json(self) -> list[dict]:
        out = [{"path": str(p), "sha256": f.result(), "records": r} for p, f, r in self._items]
        self._pool.shutdown()
        return out


def _read_enrol(enrol: str) -> str | list[str]:
    if enrol in ("first", "all"):
        return enrol
    path = Path(enrol)
    if not path.is_file():
        raise InputError(
            "--enrol takes 'first', 'all' or a file naming the enrolled sample ids (one per line).",
            path=path,
        )
    ids = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    ids = [i for i in ids if i and not i.startswith("#")]
    if not ids:
        raise InputError("the enrolment list is empty.", path=path)
    return ids


def identify(
    candidates: Path | None = typer.Option(
        None, "--candidates", help="Candidate lists: probe, rank, candidate, score (CSV/Parquet)."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="Probe truth: probe, subject (empty subject = non-mated search)."
    ),
    gallery_size: int | None = typer.Option(
        None, "--gallery-size", help="Gallery size N (enrolled subjects) of the candidate lists."
    ),
    gallery_subjects: Path | None = typer.Option(
        None, "--gallery-subjects", help="Enrolled subject ids, one per line (gives N)."
    ),
    gallery: Path | None = typer.Option(
        None, "--gallery", help="Gallery embeddings (.npz: embeddings, subjects; or Parquet)."
    ),
    probes: Path | None = typer.Option(None, "--probes", help="Probe embeddings (.npz/Parquet)."),
    embeddings: Path | None = typer.Option(
        None, "--embeddings", help="One embeddings file, split into gallery and probes here."
    ),
    held_out: float = typer.Option(
        0.2, help="With --embeddings: share (<1) or number of subjects kept out of the gallery."
    ),
    enrol: str = typer.Option(
        "first",
        help="Which gallery samples enrol: 'first' per subject (NIST), 'all', or a file of ids.",
    ),
    list_length: int = typer.Option(50, help="Candidates returned per search (L)."),
    index: str = typer.Option("flat", help="Search index: flat (exact), ivf or hnsw."),
    nlist: int | None = typer.Option(None, help="IVF lists (default ~4 sqrt(n))."),
    nprobe: int | None = typer.Option(None, help="IVF lists searched (default 16)."),
    hnsw_m: int | None = typer.Option(None, help="HNSW links per node (default 32)."),
    ef_search: int | None = typer.Option(None, help="HNSW search depth (default 128)."),
    chunk_size: int = typer.Option(4096, help="Probes searched per chunk (bounds memory)."),
    write_candidates: bool = typer.Option(
        False, help="Also write candidates.csv and truth.csv (the black-box format) to --out."
    ),
    fpir_target: list[str] | None = typer.Option(
        None,
        "--fpir-target",
        help="FPIR targets (repeat or comma-separate). Default 0.1 ... 0.001.",
    ),
    threshold: list[str] | None = typer.Option(
        None, "--threshold", help="Also report the rates at these thresholds (e.g. set elsewhere)."
    ),
    rank: int | None = typer.Option(
        None, help="Rank criterion R of FNIR(N, R, T) (default: L, any returned rank)."
    ),
    metadata: Path | None = METADATA_OPTION,
    by: str | None = BY_OPTION,
    threshold_from: str = THRESHOLD_FROM_OPTION,
    metadata_subject_column: str = METADATA_SUBJECT_COLUMN_OPTION,
    bootstrap: int = typer.Option(1000, help="Subject-bootstrap replicates (0: none)."),
    confidence: float = CONFIDENCE_OPTION,
    seed: int = typer.Option(0, help="Seed of the bootstrap (and of --held-out)."),
    out: Path | None = OUT_OPTION,
    json_out: str | None = JSON_OPTION,
    force: bool = FORCE_OPTION,
    title: str = typer.Option("1:N identification audit", help="Report title."),
    quiet: bool = QUIET_OPTION,
) -> None:
    """1:N audit: FPIR, FNIR, wrong person at rank 1, CMC, thresholds for FPIR targets."""
    from faceaudit.analyses.identification import DEFAULT_FPIR_TARGETS, identify_candidates
    from faceaudit.results import new_results

    check_destination(out, json_out, force)
    black = candidates is not None or truth is not None
    grey = gallery is not None or probes is not None
    if sum([black, grey, embeddings is not None]) != 1:
        raise InputError(
            "give one input: --candidates FILE --truth FILE --gallery-size N (candidate lists), "
            "--gallery FILE --probes FILE (embeddings), or --embeddings FILE."
        )
    if black and (candidates is None or truth is None):
        raise InputError("candidate lists need both --candidates FILE and --truth FILE.")
    if grey and (gallery is None or probes is None):
        raise InputError("embedding search needs both --gallery FILE and --probes FILE.")
    if index not in ("flat", "ivf", "hnsw"):
        raise InputError(f"--index must be flat, ivf or hnsw, not {index!r}.")
    if list_length < 1:
        raise InputError("--list-length must be >= 1.")
    if chunk_size < 1:
        raise InputError("--chunk-size must be >= 1.")
    if rank is not None and rank < 1:
        raise InputError("--rank must be >= 1.")
    targets = parse_floats(fpir_target, "--fpir-target") or list(DEFAULT_FPIR_TARGETS)
    check_targets(targets, "--fpir-target")
    extra = parse_floats(threshold, "--threshold")
    check_bootstrap(bootstrap, confidence)
    if write_candidates and out is None:
        raise InputError("--write-candidates needs --out DIR.")

    meta = check_demographics_options(
        metadata, by, threshold_from=threshold_from, subject_column=metadata_subject_column
    )
    log = Log(quiet=quiet or (json_out == "-" and out is None))
    hashes = InputHashes()
    settings: dict = {
        "fpir_targets": targets,
        "thresholds": extra,
        "bootstrap": bootstrap,
        "confidence": confidence,
        "seed": seed,
        "bootstrap_unit": "subject",
    }
    kw = dict(
        fpir_targets=targets,
        thresholds=extra,
        rank=rank,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    found = None
    synthetic = False
    if black:
        from faceaudit.io.candidates import load_candidate_search

        for p in (candidates, truth) + ((gallery_subjects,) if gallery_subjects else ()):
            if p is not None and Path(p).is_file():
                hashes.add(p)
        with log.stage("reading candidate lists"):
            search = load_candidate_search(
                candidates, truth, gallery=gallery_subjects, gallery_size=gallery_size
            )
        for p, r in search.records.items():
            hashes.set_records(Path(p), r)
        settings.update(source="candidate lists", gallery_size=search.gallery_size)
        with log.stage(
            f"computing rates ({search.truth.probes.size:,} searches"
            + (f", {bootstrap} bootstrap replicates)" if bootstrap else ")")
        ):
            result = identify_candidates(search, **kw)
        if meta is not None:
            from faceaudit.stats.identification import search_outcomes

            outcomes = search_outcomes(
                search.lists,
                search.truth,
                gallery_size=search.gallery_size,
                gallery_subjects=search.gallery_subjects,
            )
    else:
        from faceaudit.analyses.identification import identify as run_identify
        from faceaudit.compare.search import search_gallery, split_enrolment
        from faceaudit.io.embeddings import read_embeddings
        from faceaudit.stats.identification import search_outcomes

        enrol_sel = _read_enrol(enrol)
        if embeddings is not None:
            hashes.add(embeddings)
            with log.stage("reading embeddings"):
                data = read_embeddings(embeddings)
            hashes.set_records(embeddings, data.n)
            try:
                held = held_out if held_out < 1 else int(held_out)
                g, p = split_enrolment(data, held_out=held, seed=seed)
            except ValueError as exc:
                raise InputError(f"--held-out: {exc}") from None
            del data
            synthetic = g.synthetic
            settings.update(held_out=held_out, split="first sample of each non-held-out subject")
        else:
            hashes.add(gallery)
            hashes.add(probes)
            with log.stage("reading embeddings"):
                g = read_embeddings(gallery)
                p = read_embeddings(probes)
            hashes.set_records(gallery, g.n)
            hashes.set_records(probes, p.n)
            synthetic = g.synthetic or p.synthetic
        params = {
            k: v
            for k, v in dict(nlist=nlist, nprobe=nprobe, m=hnsw_m, ef_search=ef_search).items()
            if v is not None
        }
        settings.update(
            source="embeddings",
            enrol=enrol if isinstance(enrol_sel, str) else f"file {enrol}",
            list_length=list_length,
            index=index,
            index_params=params,
            chunk_size=chunk_size,
        )
        with progress_bar(f"searching ({index})", "probes", log.quiet) as update:
            found = search_gallery(
                g,
                p,
                list_length=list_length,
                enrol=enrol_sel,
                index=index,
                index_params=params,
                chunk_size=chunk_size,
                progress=update,
                seed=seed,
            )
        del g, p  # the embeddings are not needed any more: free them before the metrics
        with log.stage(
            f"computing rates ({found.truth.probes.size:,} searches"
            + (f", {bootstrap} bootstrap replicates)" if bootstrap else ")")
        ):
            outcomes = search_outcomes(
                found.lists,
                found.truth,
                gallery_size=found.gallery_size,
                gallery_subjects=found.gallery_subjects,
            )
            approx = found.approximate.to_json() if found.approximate is not None else None
            result = run_identify(
                outcomes,
                source="embeddings",
                synthetic=synthetic,
                approximate_search=approx,
                **kw,
            )
        log.note(
            f"searched {found.truth.probes.size:,} probes against {found.n_templates:,} templates "
            f"of {found.gallery_size:,} enrolled subjects"
        )
        if found.approximate is not None:
            log.note(
                f"approximate index {index}: recall@{list_length} vs exact = "
                f"{found.approximate.recall_at_l:.4f} on "
                f"{found.approximate.n_probes_checked} probes"
            )
        settings["gallery_size"] = found.gallery_size
    warnings = list(result.warnings)
    if synthetic:
        warnings.insert(
            0, "SYNTHETIC embeddings (faceaudit synth): these figures describe a simulation."
        )
    results = new_results(
        title=title + (" — SYNTHETIC data" if synthetic else ""),
        inputs=hashes.to_json(),
        settings=settings,
        synthetic=synthetic,
        warnings=warnings,
    )
    results["identification"] = result.to_json()
    if meta is not None:
        with log.stage(f"1:N demographic differentials by {by}"):
            demo = identification_demographics_from_options(
                outcomes,
                metadata,
                by,
                threshold_from=threshold_from,
                subject_column=metadata_subject_column,
                rank=rank,
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
                meta=meta,
            )
        add_demographics(results, demo)
    if write_candidates and found is not None:
        write_results_and_lists(results, out, force, log, found)
        if json_out is not None:
            from faceaudit.results import emit_json

            emit_json(results, json_out, force=force)
    else:
        write_results(results, out, json_out, force, log)


def write_results_and_lists(results: dict, out: Path, force: bool, log: Log, found) -> None:
    """Write results (+ report) and the search's candidate lists in the black-box format.

    ``candidates.csv`` (probe, rank, candidate, score), ``truth.csv`` (probe, subject: empty for
    a non-mated search; person: the true identity, the bootstrap unit) and
    ``gallery_subjects.txt``: ``faceaudit identify --candidates candidates.csv --truth truth.csv
    --gallery-size N`` (or ``--gallery-subjects gallery_subjects.txt``) reproduces the audit.
    """
    import numpy as np
    import pandas as pd

    from faceaudit.output import OutputDir, dump_json

    with log.stage("writing results, report and candidate lists"):
        with OutputDir(out, force=force) as tmp:
            (tmp / "results.json").write_text(dump_json(results), encoding="utf-8")
            found.lists.to_frame().to_csv(tmp / "candidates.csv", index=False)
            enrolled = np.isin(found.truth.subjects, found.gallery_subjects)
            pd.DataFrame(
                {
                    "probe": found.truth.probes,
                    "subject": np.where(enrolled, found.truth.subjects, ""),
                    "person": found.truth.subjects,
                }
            ).to_csv(tmp / "truth.csv", index=False)
            (tmp / "gallery_subjects.txt").write_text(
                "\n".join(found.gallery_subjects.tolist()) + "\n", encoding="utf-8"
            )
            from faceaudit.report import write_report

            write_report(results, tmp)
            (tmp / "faceaudit.log").write_text(log.text(), encoding="utf-8")
    log.note(f"results: {out / 'results.json'}")
