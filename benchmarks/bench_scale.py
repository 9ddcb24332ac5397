"""``faceaudit scale`` at evaluation scale (issue 13): in-process vs a 2-worker LocalCluster, whole
processes, one run each.

Data: a synthetic gallery of ``--gallery`` distractors (one sample each, d = 128) and ``--searches``
non-mated searches (other subjects), as ``bench_search.py`` makes them. Contenders, each the
whole command ``faceaudit scale --gallery G --probes P --threshold 0.4 --bootstrap B --json OUT``:

- ``in-process``: the default (2 threads, single-threaded BLAS each);
- ``LocalCluster``: ``--workers 2`` (start-up included; the workers read the searches and the
  nested gallery from a work folder by path);
- ``shards``: the gallery as a folder of 4 shards, read block by block from memory maps;
- ``before`` (with ``--before SRC``): the same command on another checkout's ``src`` (e.g. the
  in-process loop this map replaced).

Wall time and peak RSS from ``os.wait4``; the scale figures of every contender are compared (they
must be identical, timing aside)::

    nice uv run python benchmarks/bench_scale.py                    # 10^5 x 5,000
    nice uv run python benchmarks/bench_scale.py --gallery 1000000 --searches 1000

Raw records: ``benchmarks/_work/scale_runs.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import bench_search as bs  # noqa: E402  (data, process runner, machine record)

RUNS = REPO / "benchmarks" / "_work" / "scale_runs.json"


def _figures(path: Path) -> dict | None:
    try:
        res = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    sc = res.get("scale") or {}
    return {k: sc.get(k) for k in ("points", "tail_fit", "threshold_needed", "rank1_accuracy")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gallery", type=int, default=100_000)
    ap.add_argument("--searches", type=int, default=5_000)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--before", help="src folder of another checkout, run as 'before'")
    a = ap.parse_args()
    bs.warm_bytecode()
    gpath, ppath = bs.make_in_child("scale", a.gallery, a.searches, 128)
    shards = gpath.with_suffix(".shards")
    if not (shards / "gallery.json").exists():
        from faceaudit.compare.shards import write_gallery_shards
        from faceaudit.io.embeddings import read_embeddings

        write_gallery_shards(read_embeddings(gpath), shards, rows_per_shard=-(-a.gallery // 4))
    fa = [str(Path(sys.executable).parent / "faceaudit")]
    work = bs.WORK / "scale"
    work.mkdir(parents=True, exist_ok=True)

    def cmd(gallery: Path, name: str, *extra: str) -> list[str]:
        return fa + ["scale", "--gallery", str(gallery), "--probes", str(ppath), "--threshold",
                     "0.4", "--bootstrap", str(a.bootstrap), "--json", str(work / f"{name}.json"),
                     "--force", "-q", *extra]  # fmt: skip

    contenders = [
        ("in-process", cmd(gpath, "in-process")),
        ("LocalCluster", cmd(gpath, "LocalCluster", "--workers", "2")),
        ("shards", cmd(shards, "shards")),
    ]
    if a.before:
        contenders.append(("before", cmd(gpath, "before")))
    comparisons = a.gallery * a.searches
    print(f"scale: {a.searches:,} searches x {a.gallery:,} distractors = {comparisons:.2e}")
    records = []
    for name, c in contenders:
        env = None
        if name == "before":
            env = dict(bs.child_env(), PYTHONPATH=a.before)
        rec = _run(c, name, env)
        rec["figures_equal_in_process"] = _figures(work / f"{name}.json") == _figures(
            work / "in-process.json"
        )
        records.append(rec)
    base = records[0]["wall_s"]
    for r in records:
        same = r["figures_equal_in_process"]
        print(f"  {r['name']:13s} {r['wall_s']:7.1f} s ({r['wall_s'] / base:.2f}x)  "
              f"{r['peak_rss_mb']:6.0f} MB  same figures: {same}")  # fmt: skip
    info = bs.machine()
    info.update(gallery=a.gallery, searches=a.searches, bootstrap=a.bootstrap)
    RUNS.parent.mkdir(parents=True, exist_ok=True)
    RUNS.write_text(json.dumps({"machine": info, "records": records}, indent=1))


def _run(cmd: list[str], name: str, env: dict | None) -> dict:
    if env is None:
        return bs.run(cmd, name)
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return bs.run(cmd, name)
    finally:
        os.environ.clear()
        os.environ.update(old)


if __name__ == "__main__":
    main()
