"""Side-by-side 1:N search benchmark: faceaudit end to end vs bare faiss vs chunked numpy.

Issue 3, item 8. Every contender is a WHOLE PROCESS (interpreter start, imports, loading the
arrays, searching, writing), timed by wall clock, with peak resident memory (``ru_maxrss`` of the
child, from ``os.wait4``). All read the same files, written once with ``faceaudit.synth`` (seeded)
to ``benchmarks/_work/search`` and reused:

- gallery: 10^6 enrolled subjects, one L2-normalised float32 embedding each (d = 128 and 512);
- probes: 10^4 searches, half mated (a second sample of an enrolled subject), half non-mated.

Contenders, each returning the top-50 candidates of every probe and printing its rank-1 hit count
over the mated probes (so a reader sees that they agree):

- ``faceaudit``: ``faceaudit identify --gallery G --probes P --out DIR --force --bootstrap 0``
  (reads and validates both files, exact faiss search in chunks, metrics, results.json, report);
- ``faiss``: ``faiss.IndexFlatIP`` + ``add`` + ``search`` on the arrays (the usual bare script);
- ``numpy``: chunked ``probes @ gallery.T`` (128 probes per chunk) + ``argpartition`` + sort.

And ``faceaudit scale`` on 10^5 non-mated searches against 10^4 distractors (d = 128): wall time
and peak memory of the whole command (default 200-replicate two-way bootstrap, report included).

Run from the repository root (the machine has 2 cores: run it alone, once)::

    uv run python benchmarks/bench_search.py             # full (about 15 minutes)
    uv run python benchmarks/bench_search.py --quick     # smoke: 10^5 gallery, 10^3 probes

Results: a table on stdout and in ``benchmarks/results/search.md``; raw records in
``benchmarks/_work/search_runs.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "_work" / "search"
RESULTS = REPO / "benchmarks" / "results" / "search.md"
K = 50
SEED = 20261129


# --------------------------------------------------------------------------------------------
# peers (run as child processes of this same file)


def _load(path: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return z["embeddings"], z["subjects"]


def _rank1_hits(top1: np.ndarray, g_subj: np.ndarray, p_subj: np.ndarray) -> int:
    return int(np.sum(g_subj[top1] == p_subj))


def peer_faiss(gallery: str, probes: str) -> dict:
    import faiss

    g, gs = _load(gallery)
    p, ps = _load(probes)
    index = faiss.IndexFlatIP(g.shape[1])
    index.add(g)
    _, idx = index.search(p, K)
    return {"rank1_hits": _rank1_hits(idx[:, 0], gs, ps)}


def peer_numpy(gallery: str, probes: str, chunk: int = 128) -> dict:
    g, gs = _load(gallery)
    p, ps = _load(probes)
    top = np.empty((p.shape[0], K), dtype=np.int64)
    for s in range(0, p.shape[0], chunk):
        sim = p[s : s + chunk] @ g.T
        part = np.argpartition(sim, sim.shape[1] - K, axis=1)[:, -K:]
        order = np.argsort(-np.take_along_axis(sim, part, axis=1), axis=1, kind="stable")
        top[s : s + chunk] = np.take_along_axis(part, order, axis=1)
    return {"rank1_hits": _rank1_hits(top[:, 0], gs, ps)}


# --------------------------------------------------------------------------------------------
# data


def make_search_data(n_gallery: int, n_probes: int, dim: int) -> tuple[Path, Path]:
    """Gallery: first sample of subjects 0..n-1; probes: second samples of n_probes/2 of them
    (mated) and samples of n_probes/2 other subjects (non-mated)."""
    WORK.mkdir(parents=True, exist_ok=True)
    gpath = WORK / f"gallery_d{dim}_n{n_gallery}.npz"
    ppath = WORK / f"probes_d{dim}_n{n_gallery}_q{n_probes}.npz"
    if gpath.exists() and ppath.exists():
        return gpath, ppath
    from faceaudit.synth import synthesize

    half = n_probes // 2
    per = np.ones(n_gallery + half, dtype=np.int64)
    per[:half] = 2
    data = synthesize(
        n_gallery + half, per, dim=dim, mated_mean=0.6, quality_spread=0.3, seed=SEED + dim
    )
    first = np.zeros(data.subjects.size, dtype=bool)
    _, idx = np.unique(data.subjects, return_index=True)
    first[idx] = True
    owner = np.repeat(np.arange(n_gallery + half), per)
    gal = first & (owner < n_gallery)
    data.subset(np.nonzero(gal)[0]).save(gpath, force=True)
    data.subset(np.nonzero(~gal)[0]).save(ppath, force=True)
    return gpath, ppath


def make_scale_data(n_gallery: int, n_searches: int, dim: int) -> tuple[Path, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    gpath = WORK / f"scale_gallery_d{dim}_n{n_gallery}.npz"
    ppath = WORK / f"scale_probes_d{dim}_q{n_searches}.npz"
    if gpath.exists() and ppath.exists():
        return gpath, ppath
    from faceaudit.synth import synthesize

    synthesize(n_gallery, 1, dim=dim, seed=SEED + 1, subject_prefix="g").save(gpath, force=True)
    synthesize(n_searches, 1, dim=dim, seed=SEED + 2, subject_prefix="n").save(ppath, force=True)
    return gpath, ppath


# --------------------------------------------------------------------------------------------
# running


def child_env() -> dict:
    """The environment of every contender: this one, with a bytecode cache they can write.

    With ``PYTHONDONTWRITEBYTECODE=1`` (as on the machine this was written on) every process
    recompiles every module it imports (scipy, pandas, matplotlib: 5-8 s); a user's installation
    has its bytecode cached, so the children use ``PYTHONPYCACHEPREFIX`` in ``benchmarks/_work``
    (warmed before timing) and the venv is left untouched.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK.parent / "pycache")
    return env


def warm_bytecode() -> None:
    code = (
        "import faiss, numpy, scipy.stats, scipy.optimize, pandas, pyarrow.parquet, matplotlib, "
        "faceaudit.cli, faceaudit.analyses.identification, faceaudit.analyses.scale, "
        "faceaudit.report, faceaudit.report.figures, faceaudit.report.sections, "
        "faceaudit.io.candidates, faceaudit.compare.search, matplotlib.pyplot"
    )
    subprocess.run([sys.executable, "-c", code], env=child_env(), cwd=REPO, check=True)


def make_in_child(kind: str, n1: int, n2: int, dim: int) -> tuple[Path, Path]:
    """Write the data files in a child process: this parent stays small, because a child's
    ``ru_maxrss`` starts from the parent's high-water mark (fork/vfork, then exec)."""
    subprocess.run(
        [sys.executable, __file__, "--make", kind, str(n1), str(n2), str(dim)],
        cwd=REPO,
        check=True,
        env=child_env(),
    )
    return (make_search_data if kind == "search" else make_scale_data)(n1, n2, dim)


def parent_hwm_mb() -> float:
    for ln in Path("/proc/self/status").read_text().splitlines():
        if ln.startswith("VmHWM"):
            return int(ln.split()[1]) / 1024
    return float("nan")


def run(cmd: list[str], name: str) -> dict:
    """Run one whole process; wall time, peak RSS (MB), exit status, its last stdout line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=child_env()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    rc = os.waitstatus_to_exitcode(status)
    rec = {
        "name": name,
        "cmd": cmd,
        "wall_s": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "exit": rc,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
    }
    lines = [ln for ln in out.strip().splitlines() if ln.startswith("{")]
    if lines:
        rec.update(json.loads(lines[-1]))
    if rc != 0:
        rec["stderr"] = err[-2000:]
    print(
        f"  {name:10s} {wall:8.1f} s  {rec['peak_rss_mb']:8.0f} MB  exit {rc}  "
        f"{ {k: v for k, v in rec.items() if k == 'rank1_hits'} }",
        flush=True,
    )
    return rec


def faceaudit_rank1(out_dir: Path) -> int | None:
    try:
        res = json.loads((out_dir / "results.json").read_text())
        return int(res["identification"]["cmc"][0]["count"])
    except (OSError, KeyError, IndexError, ValueError):
        return None


def machine() -> dict:
    cpu = "unknown"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import faiss

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": faiss.__version__,
        "load_average": os.getloadavg(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dims", default="128,512")
    ap.add_argument("--skip-search", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument(
        "--contenders",
        default="faceaudit,faiss,numpy",
        help="Re-run only these; the other records are kept from the last run's json.",
    )
    ap.add_argument("--peer", choices=["faiss", "numpy"], help=argparse.SUPPRESS)
    ap.add_argument("--make", nargs=4, help=argparse.SUPPRESS)  # kind n_gallery n_probes dim
    ap.add_argument("--gallery", help=argparse.SUPPRESS)
    ap.add_argument("--probes", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.peer:
        fn = peer_faiss if a.peer == "faiss" else peer_numpy
        print(json.dumps(fn(a.gallery, a.probes)))
        return
    if a.make:
        kind, n1, n2, d = a.make[0], int(a.make[1]), int(a.make[2]), int(a.make[3])
        (make_search_data if kind == "search" else make_scale_data)(n1, n2, d)
        return

    n_gal, n_probe = (100_000, 1000) if a.quick else (1_000_000, 10_000)
    n_scale_gal, n_scale = (10_000, 10_000) if a.quick else (10_000, 100_000)
    dims = [int(d) for d in a.dims.split(",")]
    info = machine()
    print(f"machine: {info}", flush=True)
    exe = [sys.executable]
    fa = [str(Path(sys.executable).parent / "faceaudit")]
    warm_bytecode()
    wanted = set(a.contenders.split(","))
    runs_json = WORK.parent / "search_runs.json"
    kept, kept_scale = [], None
    if wanted != {"faceaudit", "faiss", "numpy"} and runs_json.exists():
        old = json.loads(runs_json.read_text())
        kept = [r for r in old["records"] if r["name"] not in wanted or r["dim"] not in dims]
        kept_scale = old.get("scale")
        if kept_scale:
            kept_scale.setdefault("note", f"from the run of {old['machine']['date']}")
        for r in kept:
            r.setdefault("note", f"from the run of {old['machine']['date']}")
    records = []
    if not a.skip_search:
        for d in dims:
            gpath, ppath = make_in_child("search", n_gal, n_probe, d)
            gal_mb = n_gal * d * 4 / 2**20
            # warm the page cache so that no contender pays for the first read
            for pth in (gpath, ppath):
                with open(pth, "rb") as fh:
                    while fh.read(1 << 24):
                        pass
            print(f"search: gallery {n_gal:,} x d={d} ({gal_mb:.0f} MB), {n_probe:,} probes")
            out = WORK / f"fa_out_d{d}"
            for peer in ("faiss", "numpy"):
                if peer not in wanted:
                    continue
                r = run(
                    exe
                    + [__file__, "--peer", peer, "--gallery", str(gpath), "--probes", str(ppath)],
                    peer,
                )
                r.update(dim=d, gallery=n_gal, probes=n_probe, gallery_mb=gal_mb)
                records.append(r)
            if "faceaudit" not in wanted:
                continue
            rec = run(
                fa
                + [
                    "identify",
                    "--gallery",
                    str(gpath),
                    "--probes",
                    str(ppath),
                    "--out",
                    str(out),
                    "--force",
                    "--bootstrap",
                    "0",
                    "-q",
                ],
                "faceaudit",
            )
            rec["rank1_hits"] = faceaudit_rank1(out)
            rec.update(dim=d, gallery=n_gal, probes=n_probe, gallery_mb=gal_mb)
            records.append(rec)
    scale_rec = None
    if not a.skip_scale:
        gpath, ppath = make_in_child("scale", n_scale_gal, n_scale, 128)
        print(f"scale: {n_scale:,} non-mated searches vs {n_scale_gal:,} distractors, d=128")
        scale_rec = run(
            fa
            + [
                "scale",
                "--gallery",
                str(gpath),
                "--probes",
                str(ppath),
                "--threshold",
                "0.4",
                "--out",
                str(WORK / "fa_scale"),
                "--force",
                "-q",
            ],
            "scale",
        )
        scale_rec.update(searches=n_scale, gallery=n_scale_gal, dim=128)
    records = [r for r in kept if r not in records] + records
    if scale_rec is None:
        scale_rec = kept_scale
    info["load_average_end"] = os.getloadavg()
    info["parent_hwm_mb"] = parent_hwm_mb()
    (WORK.parent / "search_runs.json").write_text(
        json.dumps({"machine": info, "records": records, "scale": scale_rec}, indent=1)
    )
    write_table(info, records, scale_rec, quick=a.quick)


def write_table(info: dict, records: list[dict], scale_rec: dict | None, quick: bool) -> None:
    lines = [
        "# 1:N search benchmark (issue 3, item 8)",
        "",
        f"Run {info['date']} by `benchmarks/bench_search.py{' --quick' if quick else ''}`. "
        f"Machine: {info['nproc']} cores ({info['cpu']}), Python {info['python']}, numpy "
        f"{info['numpy']}, faiss {info['faiss']}. Load average at start "
        f"{', '.join(f'{x:.1f}' for x in info['load_average'])}, at end "
        f"{', '.join(f'{x:.1f}' for x in info.get('load_average_end', ()))} (the machine is "
        "shared with other work: times are indicative, compare the ratios). One run each, "
        "whole processes; peak RSS from `wait4` (it includes the launching process's "
        f"high-water mark, {info.get('parent_hwm_mb', float('nan')):.0f} MB, inherited at "
        "fork/exec; the data files are written by a separate process for that reason). "
        "Bytecode cache warmed first (see "
        "`child_env`): the environment sets `PYTHONDONTWRITEBYTECODE=1`, which would make every "
        "process recompile scipy/pandas/matplotlib on import.",
        "",
    ]
    if records:
        lines += [
            "## Exact top-50 search, 10^4 probes (half mated) against a 10^6 gallery"
            if not quick
            else "## Exact top-50 search (quick sizes)",
            "",
            "| d | gallery array | contender | wall (s) | x faiss | peak RSS (MB) | "
            "x gallery array | rank-1 hits |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for d in sorted({r["dim"] for r in records}):
            rows = [r for r in records if r["dim"] == d]
            base = next((r["wall_s"] for r in rows if r["name"] == "faiss"), None)
            for r in sorted(rows, key=lambda r: ["faceaudit", "faiss", "numpy"].index(r["name"])):
                ratio = f"{r['wall_s'] / base:.2f}" if base else "-"
                lines.append(
                    f"| {d} | {r['gallery_mb']:.0f} MB | {r['name']}"
                    + (" (*)" if "note" in r else "")
                    + f" | {r['wall_s']:.1f} | "
                    f"{ratio} | {r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] / r['gallery_mb']:.2f} "
                    f"| {r.get('rank1_hits')} |" + (" FAILED" if r["exit"] else "")
                )
        lines += [
            "",
        ]
        notes = sorted({r["note"] for r in records if "note" in r})
        if notes:
            lines += [
                "(*) kept from an earlier run of the same script (`--contenders` re-runs a "
                "subset): " + "; ".join(notes) + ".",
                "",
            ]
        lines += [
            "faceaudit = `faceaudit identify --gallery G.npz --probes P.npz --out DIR "
            "--bootstrap 0` (read + validate + L2-normalise both files, exact search with "
            "`faiss.knn` in probe chunks of 4096 over the gallery array in place, all 1:N "
            "metrics, results.json with input SHA-256, HTML report with figures). faiss = "
            "`IndexFlatIP.add` + `search` (copies the gallery into the index). numpy = "
            "`probes @ gallery.T` in chunks of 128 probes + `argpartition`. Targets (issue): "
            "faceaudit within 1.3x of bare faiss; peak memory within 1.5x of the gallery array.",
            "",
        ]
    if scale_rec:
        lines += [
            "## `faceaudit scale` on 10^5 non-mated searches"
            if not quick
            else "## `faceaudit scale` (quick sizes)",
            "",
            "| searches | distractors | d | comparisons | wall (s) | peak RSS (MB) |",
            "|---|---|---|---|---|---|",
            f"| {scale_rec['searches']:,} | {scale_rec['gallery']:,} | {scale_rec['dim']} | "
            f"{scale_rec['searches'] * scale_rec['gallery']:.1e} | {scale_rec['wall_s']:.1f} | "
            f"{scale_rec['peak_rss_mb']:.0f} |" + (" FAILED" if scale_rec["exit"] else ""),
            "",
            (f"({scale_rec['note']}.) " if "note" in scale_rec else "")
            + "Whole command: read, score every search against every distractor (BLAS, in blocks), "
            "nested galleries 10^2 ... 10^4, GPD tail fit, 200-replicate two-way bootstrap band, "
            "extrapolation to 2.7 x 10^8, results.json and report. Target (issue): under 30 s.",
            "",
        ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
