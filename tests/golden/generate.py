"""Golden figures: the inputs and the frozen results.json of every command on small fixtures.

The goldens pin every figure faceaudit prints (rates, counts, thresholds, intervals, curves), so a
refactor that should change nothing provably changes nothing (``tests/test_golden.py``), the way
bob.measure regresses against stored reference curves. An intended change regenerates them:

    uv run python tests/golden/generate.py            # rewrite the golden results only
    uv run python tests/golden/generate.py --inputs   # also rewrite the input fixtures (rarely)

and the commit that does so says which figures moved and why.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
EXPECTED = HERE / "expected"
SHARED = HERE.parents[2] / "shared" / "data"

#: Keys that legitimately differ between runs: when and with what it ran, and where the inputs were.
VOLATILE = {"created", "faceaudit_version", "versions"}


def _synth(subjects, samples, *, dim, seed, groups=(), mated_mean=0.6, spread=0.3):
    from faceaudit.synth import GroupSpec, synthesize

    return synthesize(
        subjects,
        samples,
        dim=dim,
        mated_mean=mated_mean,
        quality_spread=spread,
        groups=[GroupSpec.parse(g) for g in groups],
        seed=seed,
    )


def _write(eset, path: Path) -> None:
    from faceaudit.io.embeddings import write_embeddings

    write_embeddings(
        path,
        eset.embeddings,
        eset.subjects,
        samples=eset.samples,
        groups=eset.groups,
        metadata={"synthetic": True, "generator": "tests/golden/generate.py"},
        force=True,
    )


def make_inputs() -> None:
    """Write the small input fixtures (deterministic; committed: goldens never depend on synth)."""
    from faceaudit.compare.search import split_enrolment
    from faceaudit.data import EmbeddingSet

    INPUTS.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)

    # 1:1 table with ties (scores to 2 decimals), subjects, two FTA rows; 30 subjects x 3 samples.
    d = _synth(30, 3, dim=32, seed=1, groups=("A:1:0.0", "B:1:0.1"))
    emb, subj = d.embeddings, d.subjects
    with open(INPUTS / "ties.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["probe", "reference", "probe_subject", "reference_subject", "score", "mated"])
        n = len(subj)
        for i in range(n):
            for j in range(i + 1, n):
                s = f"{float(emb[i] @ emb[j]):.2f}"
                if (i, j) in ((0, 1), (5, 40)):
                    s = ""  # failures to acquire: one mated, one non-mated
                w.writerow([f"img{i}", f"img{j}", subj[i], subj[j], s, int(subj[i] == subj[j])])
    with open(INPUTS / "subjects.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "sex", "age_band"])
        for k, s in enumerate(sorted(set(subj.tolist()))):
            w.writerow([s, "f" if k % 2 else "m", ("18-30", "31-50", "51+")[k % 3]])

    # pyeer: integer scores 0..100, no subjects.
    gen = np.clip(np.round(rng.normal(70, 12, 400)), 0, 100).astype(int)
    imp = np.clip(np.round(rng.normal(35, 10, 12000)), 0, 100).astype(int)
    (INPUTS / "genuine.txt").write_text("".join(f"{v}\n" for v in gen))
    (INPUTS / "impostor.txt").write_text("".join(f"{v}\n" for v in imp))

    # bob 4-column, distance scores (lower = more similar): models x probes of 40 subjects.
    d = _synth(40, 2, dim=32, seed=2)
    models, probes = d.embeddings[::2], d.embeddings[1::2]
    ids = d.subjects[::2]
    with open(INPUTS / "scores-dev", "w") as fh:
        for a in range(len(ids)):
            for b in range(len(ids)):
                dist = 1.0 - float(models[a] @ probes[b])
                fh.write(f"{ids[a]} {ids[b]} {ids[b]}_2 {dist:.6f}\n")

    # 1:N embeddings: 400 subjects x 2 samples, 30% held out, groups for demographics.
    d = _synth(400, 2, dim=32, seed=3, groups=("A:1:0.0", "B:1:0.08"))
    eset = EmbeddingSet.from_arrays(d.embeddings, d.subjects, samples=d.samples, groups=d.groups)
    gallery, probes_set = split_enrolment(eset, held_out=0.3, seed=0)
    _write(gallery, INPUTS / "gallery.npz")
    _write(probes_set, INPUTS / "probes.npz")
    with open(INPUTS / "groups.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "group"])
        for s, g in sorted(set(zip(d.subjects.tolist(), d.groups.tolist(), strict=True))):
            w.writerow([s, g])

    # Scale: 3000 distractors (one sample each) + 150 mated subjects x 2 + 150 non-mated probes.
    d = _synth(3300, 2, dim=32, seed=4, mated_mean=0.5)
    subj = d.subjects
    uniq = sorted(set(subj.tolist()))
    mated, nonmated = set(uniq[:150]), set(uniq[150:300])
    first = np.zeros(len(subj), dtype=bool)
    seen: set[str] = set()
    for i, s in enumerate(subj.tolist()):
        if s not in seen:
            first[i] = True
            seen.add(s)
    in_gallery = first & ~np.isin(subj, list(nonmated))
    in_probes = (~first & np.isin(subj, list(mated))) | (first & np.isin(subj, list(nonmated)))
    full = EmbeddingSet.from_arrays(d.embeddings, subj, samples=d.samples)
    _write(full.subset(np.flatnonzero(in_gallery)), INPUTS / "scale_gallery.npz")
    _write(full.subset(np.flatnonzero(in_probes)), INPUTS / "scale_probes.npz")


def _candidate_inputs(tmp: Path) -> None:
    """Candidate lists in the black-box format, written by ``identify --write-candidates``."""
    out = tmp / "cand"
    run(
        [
            "identify",
            "--gallery",
            str(INPUTS / "gallery.npz"),
            "--probes",
            str(INPUTS / "probes.npz"),
            "--list-length",
            "10",
            "--bootstrap",
            "0",
            "--write-candidates",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    for name in ("candidates.csv", "truth.csv"):
        shutil.copyfile(out / name, INPUTS / name)


def _orl_manifest(dest: Path) -> Path | None:
    if not (SHARED / "orl_faces").is_dir():
        return None
    rows = list(csv.DictReader(open(SHARED / "orl_faces.csv")))
    keep = sorted({r["subject"] for r in rows})[:10]
    chosen = [r for r in rows if r["subject"] in keep and int(Path(r["path"]).stem) <= 4]
    path = dest / "orl_manifest.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "subject", "sex"])
        for r in chosen:
            w.writerow([str(SHARED / r["path"]), r["subject"], "f" if r["subject"] < "s2" else "m"])
    return path


def cases(tmp: Path) -> dict[str, list[str]]:
    """Golden case name -> CLI arguments (without --out)."""
    i = INPUTS
    b = ["--bootstrap", "200"]
    out = {
        "errors_ties": ["errors", "--scores", str(i / "ties.csv"), "--threshold", "0.3,0.55", *b],
        "errors_pyeer": ["errors", "--genuine", str(i / "genuine.txt"), "--impostor",
                         str(i / "impostor.txt"), "--fmr-target", "1e-2,1e-3", *b],
        "errors_bob_distance": ["errors", "--bob", str(i / "scores-dev"), "--distance",
                                "--threshold", "0.6", *b],
        "errors_demographics": ["errors", "--scores", str(i / "ties.csv"), "--metadata",
                                str(i / "subjects.csv"), "--by", "sex,age_band", *b],
        "identify_candidates": ["identify", "--candidates", str(i / "candidates.csv"), "--truth",
                                str(i / "truth.csv"), "--gallery-size", "280", *b],
        "identify_embeddings": ["identify", "--gallery", str(i / "gallery.npz"), "--probes",
                                str(i / "probes.npz"), "--metadata", str(i / "groups.csv"),
                                "--by", "group", *b],
        "scale": ["scale", "--gallery", str(i / "scale_gallery.npz"), "--probes",
                  str(i / "scale_probes.npz"), "--threshold", "0.45", "--validation-fit-size",
                  "300", "--bootstrap", "100"],
        "demo": ["demo"],
    }  # fmt: skip
    manifest = _orl_manifest(tmp)
    if manifest is not None:
        out["audit_orl"] = ["audit", str(manifest), "--cache", str(tmp / "cache"), "--held-out",
                            "3", "--by", "sex", *b]  # fmt: skip
    return out


def run(args: list[str]) -> None:
    from faceaudit.cli import main

    try:
        main(args)
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"faceaudit {' '.join(args)} exited {exc.code}") from None


def run_case(name: str, args: list[str], tmp: Path) -> dict:
    """results.json of one case, with the case's temporary folder written as ``<tmp>``."""
    out = tmp / f"out-{name}"
    run([*args, "--out", str(out), "--quiet"])
    text = (out / "results.json").read_text(encoding="utf-8")
    return json.loads(text.replace(json.dumps(str(tmp))[1:-1], "<tmp>"))


def normalise(results: dict) -> dict:
    """Drop what legitimately varies between runs (time, versions, input paths)."""
    res = {k: v for k, v in results.items() if k not in VOLATILE}
    res["settings"] = {k: v for k, v in res.get("settings", {}).items() if k != "command_line"}
    res["inputs"] = [
        {k: v for k, v in item.items() if k != "path"} for item in results.get("inputs", [])
    ]
    return _drop_input_paths(res)


def _drop_input_paths(tree):
    """Input files anywhere in the tree (``{"path", "sha256", ...}``) lose their path, and paths
    into ``../shared`` (e.g. an image that failed) are written relative to it."""
    if isinstance(tree, dict):
        return {
            k: _drop_input_paths(v)
            for k, v in tree.items()
            if not (k == "path" and "sha256" in tree)
        }
    if isinstance(tree, list):
        return [_drop_input_paths(v) for v in tree]
    if isinstance(tree, str) and str(SHARED) in tree:
        return tree.replace(str(SHARED), "<shared>")  # where ../shared is differs per clone
    return tree


#: Floats agree to 1e-9 (relative): another CPU's BLAS kernels may round float32 products one ulp
#: apart; any real change of a figure moves it by far more. Integers, strings, booleans: exactly.
FLOAT_RTOL, FLOAT_ATOL = 1e-9, 1e-12
#: Floats when the goldens were made on another BLAS kernel (:func:`blas_fingerprint` differs): its
#: float32 products round differently in the last bit, which moves optimiser outputs (tail fits) by
#: ~1e-8 and can swap neighbouring bootstrap order statistics (seen: 1.6e-4 relative). Figures are
#: printed to 3 significant digits; counts, strings and flags stay exact.
OTHER_BLAS_RTOL = 1e-3
#: ``name fingerprint`` lines: the BLAS each golden was made with.
FINGERPRINTS = EXPECTED / "blas-fingerprints.txt"


@functools.cache
def blas_fingerprint() -> str:
    """:func:`fingerprint_here` in a fresh interpreter: the machine's defaults, whatever thread
    settings this process has been through (cached)."""
    import subprocess

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import generate; "
        "print(generate.fingerprint_here())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(HERE)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def fingerprint_here() -> str:
    """A hash of float32 products as this machine's BLAS rounds them (shapes the goldens use),
    and of the BLAS, OpenMP and faiss thread counts.

    OpenBLAS picks a kernel per CPU (Haswell, SkylakeX, Zen), and on some kernels (and in faiss)
    the thread count changes the last bit too: two machines with the same hash give the same
    bits, so their goldens agree to :data:`FLOAT_RTOL`.
    """
    import hashlib

    from threadpoolctl import threadpool_info

    rng = np.random.default_rng(0)
    h = hashlib.sha256()
    # thread counts too: faiss's and an AVX-512 sgemm's bits depend on them
    threads = sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info())
    try:
        import faiss

        threads.append(("faiss", faiss.omp_get_max_threads()))
    except ImportError:  # pragma: no cover - faiss is a dependency
        pass
    h.update(repr(threads).encode())
    for m, d, n in ((300, 32, 3150), (256, 24, 256), (20, 512, 256), (1500, 128, 1500)):
        a = rng.standard_normal((m, d)).astype(np.float32)
        b = rng.standard_normal((n, d)).astype(np.float32)
        h.update((a @ b.T).tobytes())
    return h.hexdigest()[:16]


def recorded_fingerprints() -> dict[str, str]:
    if not FINGERPRINTS.exists():
        return {}
    pairs = (line.split() for line in FINGERPRINTS.read_text().splitlines() if line.strip())
    return {name: fp for name, fp in pairs}


def float_rtol(name: str) -> float:
    """:data:`OTHER_BLAS_RTOL` when golden ``name`` was made on another BLAS kernel than this
    machine's, else :data:`FLOAT_RTOL` (also when its kernel was not recorded: goldens made before
    the fingerprints were, whose figures involve no float32 BLAS product or were made on the
    kernel CI runs)."""
    made_on = recorded_fingerprints().get(name)
    return OTHER_BLAS_RTOL if made_on not in (None, blas_fingerprint()) else FLOAT_RTOL


def _float_pair(e, a) -> bool:
    return isinstance(e, float) and isinstance(a, float)


def diff(
    expected, actual, path: str = "$", limit: int = 20, rtol: float | None = None
) -> list[str]:
    """Every place two JSON trees differ (floats to ``rtol``, default :data:`FLOAT_RTOL`), as
    readable lines."""
    out: list[str] = []
    rtol = FLOAT_RTOL if rtol is None else rtol

    def walk(e, a, p):
        if len(out) >= limit:
            return
        if isinstance(e, dict) and isinstance(a, dict):
            for k in e.keys() | a.keys():
                if k not in a:
                    out.append(f"{p}.{k}: missing (expected {json.dumps(e[k])[:80]})")
                elif k not in e:
                    out.append(f"{p}.{k}: unexpected {json.dumps(a[k])[:80]}")
                else:
                    walk(e[k], a[k], f"{p}.{k}")
        elif isinstance(e, list) and isinstance(a, list):
            if len(e) != len(a):
                out.append(f"{p}: length {len(a)}, expected {len(e)}")
            for k, (x, y) in enumerate(zip(e, a, strict=False)):
                walk(x, y, f"{p}[{k}]")
        elif _float_pair(e, a):
            if not math.isclose(e, a, rel_tol=rtol, abs_tol=FLOAT_ATOL):
                out.append(f"{p}: {json.dumps(a)[:80]}, expected {json.dumps(e)[:80]}")
        elif e != a or (isinstance(e, bool) != isinstance(a, bool)):
            out.append(f"{p}: {json.dumps(a)[:80]}, expected {json.dumps(e)[:80]}")

    walk(expected, actual, path)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", action="store_true", help="also rewrite the input fixtures")
    ap.add_argument("only", nargs="*", help="case names (default: all)")
    opts = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if opts.inputs:
            make_inputs()
            _candidate_inputs(tmp)
        EXPECTED.mkdir(parents=True, exist_ok=True)
        fingerprints = recorded_fingerprints()
        for name, args in cases(tmp).items():
            if opts.only and name not in opts.only:
                continue
            res = normalise(run_case(name, args, tmp))
            (EXPECTED / f"{name}.json").write_text(json.dumps(res, indent=1) + "\n")
            fingerprints[name] = blas_fingerprint()
            print(f"wrote {EXPECTED / (name + '.json')}", file=sys.stderr)
        FINGERPRINTS.write_text("".join(f"{k} {v}\n" for k, v in sorted(fingerprints.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
