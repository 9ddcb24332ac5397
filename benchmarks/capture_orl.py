"""What capture conditions do to dlib-resnet's error rates on ORL, and whether a quality gate helps.

A study, not a speed benchmark: each subject's image ``1.pgm`` is its clean reference, the other
nine are probes; the threshold is fixed on the clean probes (FMR target on clean non-mated
probe-reference pairs) and kept for every condition. Eye centres come from the recognizer's
landmarks on the clean probe; profile lengths are scaled to each face's inter-eye distance.
Prints Markdown tables: FNMR vs defocus radius and motion length, FTA and FNMR vs inter-eye
distance (with and without restoring the image size), FNMR by profile severity, and the EDC of
the built-in quality score on a pool of mixed conditions.

    uv run python benchmarks/capture_orl.py --subjects 40 --boot 500

Needs ../shared/data/orl_faces (not part of the repository). Single process, about 0.1 s per image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from faceaudit.capture.degrade import Degradation, apply_chain
from faceaudit.capture.geometry import eye_centres, inter_eye_distance
from faceaudit.capture.profiles import get_profile
from faceaudit.capture.quality import measure_quality
from faceaudit.io.images import AcquisitionError, read_image
from faceaudit.recognizers import load_recognizer
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.edc import error_vs_discard
from faceaudit.stats.quality_gate import quality_gates, recommend_gate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "orl_faces"


def represent(rec, img):
    try:
        rep = rec.represent(img)
    except AcquisitionError as exc:
        return None, None, exc.reason
    return rep.embedding, rep.face.landmarks, "ok"


def load(n_subjects: int):
    subjects = sorted((p.name for p in DATA.iterdir() if p.is_dir()), key=lambda s: int(s[1:]))
    subjects = subjects[:n_subjects]
    refs = {s: read_image(DATA / s / "1.pgm") for s in subjects}
    probes = [(s, read_image(DATA / s / f"{i}.pgm")) for s in subjects for i in range(2, 11)]
    return subjects, refs, probes


def interval(values, codes, n_units, boot, seed=0):
    """Subject-bootstrap percentile interval of a mean of 0/1 values."""
    if boot == 0 or len(values) == 0:
        return None
    v = np.asarray(values, float)
    c = np.asarray(codes)
    tot = np.bincount(c, minlength=n_units).astype(float)
    hit = np.bincount(c, weights=v, minlength=n_units)
    reps = []
    for w in Resampler(n_units, boot, seed).weight_batches():
        with np.errstate(invalid="ignore"):
            reps.append((w @ hit) / (w @ tot))
    r = np.concatenate(reps)
    r = r[np.isfinite(r)]
    return np.quantile(r, [0.025, 0.975])


def header(label: str) -> None:
    print(f"\n| {label} | FNMR [95% CI] | FTA [95% CI] | generalised FNMR |")
    print("|---|---|---|---|")


def fmt(x, ci=None):
    s = f"{100 * x:.1f}%"
    return s if ci is None else f"{s} [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=40)
    ap.add_argument("--boot", type=int, default=500)
    ap.add_argument("--fmr", type=float, default=1e-3)
    ap.add_argument("--sections", default="defocus,motion,downscale,profiles,edc")
    args = ap.parse_args()
    rec = load_recognizer("dlib-resnet")
    subjects, refs, probes = load(args.subjects)
    code = {s: k for k, s in enumerate(subjects)}
    R = {}
    for s, img in refs.items():
        emb, _, status = represent(rec, img)
        if emb is not None:
            R[s] = emb
    names = sorted(R, key=code.get)
    ref_matrix = np.stack([R[s] for s in names])
    clean = [represent(rec, img) for _, img in probes]
    ok = [k for k, c in enumerate(clean) if c[0] is not None and probes[k][0] in R]
    print(f"{len(R)}/{len(subjects)} references, {len(ok)}/{len(probes)} clean probes acquired")
    scores = np.stack([ref_matrix @ clean[k][0] for k in ok])
    own = np.array([names.index(probes[k][0]) for k in ok])
    mated_mask = np.zeros_like(scores, bool)
    mated_mask[np.arange(len(ok)), own] = True
    nonmated = np.sort(scores[~mated_mask])[::-1]
    k_allowed = int(np.floor(args.fmr * nonmated.size))
    t = float(np.nextafter(nonmated[k_allowed], np.inf))
    print(f"threshold {t:.4f}: clean FMR {np.mean(nonmated >= t):.2e} on {nonmated.size} pairs")

    def condition(chain_of, label):
        fn, fta, pc_fn, pc_fta = [], [], [], []
        for k in ok:
            s, img = probes[k]
            eyes = eye_centres(clean[k][1], "dlib5")
            out = apply_chain(img, chain_of(eyes), eyes=eyes, seed=1000 + k)
            emb, _, status = represent(rec, out)
            fta.append(emb is None)
            pc_fta.append(code[s])
            if emb is not None:
                fn.append(float(emb @ R[s]) < t)
                pc_fn.append(code[s])
        f, a = np.mean(fn) if fn else float("nan"), np.mean(fta)
        ci_f = interval(fn, pc_fn, len(subjects), args.boot)
        ci_a = interval(fta, pc_fta, len(subjects), args.boot)
        gen = (sum(fn) + sum(fta)) / len(fta)
        print(f"| {label} | {fmt(f, ci_f)} | {fmt(a, ci_a)} | {fmt(gen)} |")

    want = set(args.sections.split(","))
    if "defocus" in want:
        header("defocus radius (px, disc)")
        for r in (0, 1, 2, 3, 4, 6):
            condition(lambda e, r=r: [Degradation("defocus", {"radius": r})], str(r))
    if "motion" in want:
        header("motion length (px, 0 deg)")
        for n in (0, 4, 8, 12, 16, 24):
            condition(lambda e, n=n: [Degradation("motion", {"length": n})], str(n))
    for restore in (False, True) if "downscale" in want else ():
        header(f"inter-eye distance (px), restore={restore}")
        for ied in (35, 24, 16, 12, 10, 8, 6):
            spec = Degradation("downscale", {"ied": ied, "restore": restore})
            condition(lambda e, spec=spec: [spec], str(ied))
    for name in ("night-street", "moving-subject") if "profiles" in want else ():
        prof = get_profile(name)
        header(f"{name} severity")
        for lvl in range(prof.max_severity + 1):
            condition(
                lambda e, lvl=lvl, prof=prof: list(prof.steps(lvl, ied=inter_eye_distance(e))),
                str(lvl),
            )
    if "edc" in want:
        edc_study(rec, probes, clean, ok, R, names, code, subjects, t, args.boot)


def edc_study(rec, probes, clean, ok, R, names, code, subjects, t, boot):
    """Each probe under one random condition; EDC of the built-in quality score."""
    rng = np.random.default_rng(7)
    chains = [[]] + [[Degradation("defocus", {"radius": r})] for r in (1, 2, 3, 4)]
    chains += [[Degradation("motion", {"length": n})] for n in (6, 12, 18)]
    chains += [("night-street", v) for v in (1, 2, 3, 4)]
    chains += [[Degradation("downscale", {"ied": d, "restore": True})] for d in (16, 12, 10)]
    ref_q = {
        s: measure_quality(refs_img, landmarks=represent(rec, refs_img)[1], layout="dlib5").score
        for s, refs_img in ((s, read_image(DATA / s / "1.pgm")) for s in R)
    }
    q, qprobe, sc, mated, subj, photo = [], [], [], [], [], []
    n_fta = 0
    for k in ok:
        s, img = probes[k]
        eyes = eye_centres(clean[k][1], "dlib5")
        chain = chains[rng.integers(len(chains))]
        if isinstance(chain, tuple):  # a profile step, lengths scaled to this face
            chain = get_profile(chain[0]).steps(chain[1], ied=inter_eye_distance(eyes))
        out = apply_chain(img, chain, eyes=eyes, seed=k)
        emb, lm, status = represent(rec, out)
        if emb is None:
            n_fta += 1
            continue
        qp = measure_quality(out, landmarks=lm, layout="dlib5").score
        for r in names:
            q.append(min(qp, ref_q[r]))  # pair quality
            qprobe.append(qp)
            sc.append(float(emb @ R[r]))
            mated.append(r == s)
            subj.append(code[s])
            photo.append(k)
    q, qprobe, sc, mated, subj = map(np.asarray, (q, qprobe, sc, mated, subj))
    res = error_vs_discard(
        q,
        mated,
        scores=sc,
        threshold=t,
        subjects=subj,
        weights=Resampler(len(subjects), boot, 1).weight_batches(),
    )
    c = res.mated
    print(
        f"\nEDC of the built-in quality score, mixed conditions: {mated.sum()} mated, "
        f"{(~mated).sum()} non-mated comparisons ({n_fta} probes FTA, left out)"
    )
    print("| discard target | discarded | FNMR [95% CI] | FMR |\n|---|---|---|---|")
    for p, pn in zip(c.points, res.nonmated.points, strict=True):
        if p.discard_target in (0.0, 0.05, 0.1, 0.2, 0.3):
            print(
                f"| {p.discard_target:.0%} | {p.discard:.1%} | {fmt(p.rate.value, p.rate.ci)} "
                f"| {pn.rate.value:.2e} |"
            )
    print(
        f"pAUC(20%) = {c.pauc:.4f} [{c.pauc_ci[0]:.4f}, {c.pauc_ci[1]:.4f}]; random "
        f"{c.pauc_random:.4f}; best {c.pauc_best:.4f}"
    )
    gates = quality_gates(
        qprobe,
        mated,
        scores=sc,
        threshold=t,
        photo=np.asarray(photo),
        subjects=subj,
        reject=(0.02, 0.05, 0.10, 0.20),
        weights=Resampler(len(subjects), boot, 2).weight_batches(),
    )
    for g in gates:
        print(
            f"gate reject<={g.reject_target:.0%}: {g.rejected_share:.1%} of photos rejected, "
            f"FNMR {fmt(g.mated_before.value)} -> {fmt(g.mated_after.value)} "
            f"(generalised {fmt(g.mated_generalised_after.value)}), change CI "
            f"{g.mated_change_ci}"
        )
    best = recommend_gate(gates)
    print("recommended:", None if best is None else best.reject_target)


if __name__ == "__main__":
    main()
