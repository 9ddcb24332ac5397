"""The quality part of the capture analysis: measures by condition, EDC curves, quality gates.

For the probe photos of every condition (and all conditions pooled) at the threshold fixed on
the reference condition (:mod:`faceaudit.analyses.capture`):

* **measures**: median and quartiles of the quality score and of each built-in measure
  (:mod:`faceaudit.capture.quality`) over the photos that yield a face;
* **EDC** (:func:`faceaudit.stats.edc.error_vs_discard`, ISO/IEC 29794-1): the FNMR of the
  mated 1:1 comparisons after discarding the lowest-quality share, with the pair quality the lower
  of the probe's and the reference's (a reference not assessed: the probe's), and the FPIR of
  the non-mated 1:N searches after discarding the lowest-quality probes; each with its pAUC;
* **gates** (:func:`faceaudit.stats.quality_gate.quality_gates`) on the pooled photos: reject the
  worst 1, 2, 5, 10, 20% of probe photos; FNMR (1:1) and FNIR/FPIR (1:N) before and after, the
  cost in photos, the share of each condition's photos rejected; and the gate
  :func:`~faceaudit.stats.quality_gate.recommend_gate` picks from the 1:1 gates.

Only photos with a quality score take part (a user's file may score only some; the others are
counted and named in a warning). Intervals use the capture analysis's subject replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.stats.edc import DEFAULT_DISCARD, DEFAULT_PAUC_LIMIT, error_vs_discard
from faceaudit.stats.quality_gate import QualityGate, quality_gates, recommend_gate

__all__ = ["DEFAULT_REJECT", "QualityInput", "QualityResult", "quality_analysis"]

DEFAULT_REJECT = (0.01, 0.02, 0.05, 0.10, 0.20)
MEASURES = (
    "sharpness",
    "directional_sharpness",
    "mean_luminance",
    "contrast",
    "noise",
    "inter_eye_distance",
    "yaw_proxy",
)


@dataclass(frozen=True)
class QualityInput:
    """Where the photos' quality scores come from, and the EDC and gate settings.

    The scores themselves are ``References.quality`` and ``ProbeObservations.quality``.
    ``source`` is ``"built-in"`` (:func:`faceaudit.capture.measure_quality`) or ``"file"``
    (``file`` then holds :meth:`QualityScores.to_json`).
    """

    source: str = "built-in"
    description: str = (
        "faceaudit's built-in combined quality score Q (1-100, higher = better; docs/capture.md)"
    )
    file: Mapping | None = None
    discard: Sequence[float] = DEFAULT_DISCARD
    pauc_limit: float = DEFAULT_PAUC_LIMIT
    reject: Sequence[float] = DEFAULT_REJECT
    min_relative_gain: float = 0.25
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityResult:
    """The quality analysis (``results.json`` key ``quality``); ``to_json`` is plain JSON."""

    body: Mapping
    recommended: QualityGate | None
    sentences: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        from faceaudit.analyses._capture_types import _clean

        out = dict(self.body)
        out["sentences"] = list(self.sentences)
        out["warnings"] = list(self.warnings)
        return _clean(out)


def _summary(values: np.ndarray) -> dict:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "median": None, "q1": None, "q3": None}
    q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
    return {"n": int(v.size), "median": float(med), "q1": float(q1), "q3": float(q3)}


@dataclass
class _Rows:
    """Comparisons or searches of some conditions, with their photos' quality."""

    obs: np.ndarray  # probe observation index
    score: np.ndarray
    mated: np.ndarray
    subject: np.ndarray
    quality: np.ndarray  # the comparison's (pair) quality
    probe_quality: np.ndarray

    def take(self, keep: np.ndarray) -> _Rows:
        return _Rows(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))

    @staticmethod
    def cat(parts: Sequence[_Rows]) -> _Rows:
        return _Rows(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in _Rows.__dataclass_fields__)
        )


def _rows(scored, probes, references, rank: int):
    """Per condition: 1:1 mated comparisons, 1:N mated searches, 1:N non-mated searches."""
    pq = probes.quality
    rq = references.quality if references.quality is not None else None
    r = scored.rows
    mr = scored.mated_rows
    obs = r[mr]
    probe_q = pq[obs]
    ref_q = rq[scored.own[mr]] if rq is not None else np.full(mr.size, np.nan)
    pair = np.fmin(probe_q, ref_q)  # a reference not assessed: the probe's quality
    one = _Rows(obs, scored.mated, np.ones(mr.size, bool), scored.subj[mr], pair, probe_q)
    mi, ni = scored.mated_search_rows, scored.nonmated_search_rows
    mated_search = _Rows(
        r[mi],
        scored.mate_scores_at_rank(rank),
        np.ones(mi.size, bool),
        scored.subj[mi],
        pq[r[mi]],
        pq[r[mi]],
    )
    nonmated = _Rows(
        r[ni], scored.nonmated_top, np.zeros(ni.size, bool), scored.subj[ni], pq[r[ni]], pq[r[ni]]
    )
    return one, mated_search, nonmated


def quality_analysis(
    qin: QualityInput,
    *,
    references,
    probes,
    conditions,
    scored,
    threshold: float,
    rank: int,
    n_subjects: int,
    bootstrap: int,
    confidence: float,
    seed: int,
    replicates: Callable,
) -> QualityResult:
    """The quality result (module docstring); ``replicates(n, B, seed)`` yields weights."""
    if probes.quality is None:
        raise ValueError("quality analysis needs ProbeObservations.quality")
    curves = _Curves(qin, threshold, confidence, n_subjects, bootstrap, seed, replicates)
    rows = [
        tuple(x.take(np.isfinite(x.probe_quality)) for x in _rows(sc, probes, references, rank))
        for sc in scored
    ]  # per condition: the assessed 1:1 mated comparisons, mated and non-mated searches
    per = [_condition_json(k, cond, probes, rows[k], curves) for k, cond in enumerate(conditions)]
    one, ms, nm = (_Rows.cat([r[j] for r in rows]) for j in range(3))
    pooled_edc = {"fnmr": curves.edc(one, False, True), "fpir": curves.edc(nm, True, False)}
    gates_1 = curves.gates(one, identification=False)
    gates_n = curves.gates(_Rows.cat([ms, nm]), identification=True)
    best = recommend_gate(gates_1, min_relative_gain=qin.min_relative_gain) if gates_1 else None

    def gate_json(g: QualityGate) -> dict:
        d = g.to_json()
        d["rejected_by_condition"] = _rejected_by_condition(g, probes, conditions)
        return d

    n_all = int(probes.acquired.sum())
    n_assessed = int(np.isfinite(probes.quality[probes.acquired]).sum())
    warnings = list(qin.notes)
    if n_assessed < n_all:
        warnings.append(
            f"{n_all - n_assessed:,} of {n_all:,} probe photos with a face have no quality "
            "score; the EDC and the gates use the other photos only."
        )
    body = _header(qin, threshold, confidence, bootstrap, seed) | {
        "n_photos": n_all,
        "n_assessed": n_assessed,
        "conditions": per,
        "pooled": {
            "conditions": [c.name for c in conditions],
            "edc": pooled_edc,
            "gates": {
                "verification": [gate_json(g) for g in gates_1],
                "identification": [gate_json(g) for g in gates_n],
            },
            "recommended": None if best is None else gate_json(best),
            "recommendation_rule": (
                f"the cheapest gate (fewest photos rejected) whose FNMR falls by at least "
                f"{qin.min_relative_gain:.0%} with an interval of the change below zero"
            ),
        },
    }
    labels = {c.name: c.label for c in conditions}
    by_cond = _rejected_by_condition(best, probes, conditions) if best else {}
    rejected = {labels[k]: v for k, v in by_cond.items()}
    sentences = _sentences(pooled_edc, best, rejected, qin)
    return QualityResult(body, best, tuple(sentences), tuple(warnings))


@dataclass(frozen=True)
class _Curves:
    """EDC curves and quality gates at the fixed ``threshold`` (a similarity), with intervals
    from ``replicates(n_subjects, bootstrap, seed)`` (drawn afresh, the same, for each)."""

    qin: QualityInput
    threshold: float
    confidence: float
    n_subjects: int
    bootstrap: int
    seed: int
    replicates: Callable

    def weights(self):
        if not self.bootstrap:
            return None
        return self.replicates(self.n_subjects, self.bootstrap, self.seed)

    def edc(self, rows: _Rows, identification: bool, mated: bool) -> dict | None:
        """The JSON of the mated (FNMR) or non-mated (FPIR) EDC curve; None without rows."""
        if rows.obs.size == 0:
            return None
        res = error_vs_discard(
            rows.quality,
            rows.mated,
            scores=rows.score,
            threshold=self.threshold,
            discard=self.qin.discard,
            pauc_limit=self.qin.pauc_limit,
            subjects=rows.subject,
            weights=self.weights(),
            confidence=self.confidence,
            identification=identification,
        )
        curve = res.mated if mated else res.nonmated
        return None if curve is None else curve.to_json()

    def gates(self, rows: _Rows, *, identification: bool) -> tuple[QualityGate, ...]:
        """Gates on the probes' quality: 1:1 (FNMR) or 1:N (FNIR and FPIR); () without rows."""
        if not rows.obs.size:
            return ()
        return quality_gates(
            rows.probe_quality,
            rows.mated,
            scores=rows.score,
            threshold=self.threshold,
            reject=self.qin.reject,
            photo=rows.obs,
            subjects=rows.subject,
            weights=self.weights(),
            confidence=self.confidence,
            identification=identification,
        )


def _condition_json(k: int, cond, probes, rows: tuple[_Rows, _Rows, _Rows], curves) -> dict:
    """One condition's measures (over its photos with a face) and its EDC curves."""
    one, _, nm = rows
    sel = np.flatnonzero((probes.condition == k) & probes.acquired)
    measures = {"score": _summary(probes.quality[sel])}
    for name in MEASURES:
        if name in probes.measures:
            measures[name] = _summary(probes.measures[name][sel])
    return {
        "condition": cond.name,
        "n_photos": int(sel.size),
        "n_assessed": int(np.isfinite(probes.quality[sel]).sum()),
        "measures": measures,
        "edc": {"fnmr": curves.edc(one, False, True), "fpir": curves.edc(nm, True, False)},
    }


def _rejected_by_condition(gate: QualityGate, probes, conditions) -> dict:
    """The share of each condition's assessed photos with a face that ``gate`` rejects
    (quality below its threshold); None for a condition with no such photo."""
    out = {}
    for k, cond in enumerate(conditions):
        sel = np.flatnonzero((probes.condition == k) & probes.acquired)
        q = probes.quality[sel]
        q = q[np.isfinite(q)]
        if q.size == 0:
            out[cond.name] = None
        elif gate.quality_threshold is None:
            out[cond.name] = 0.0
        else:
            out[cond.name] = float((q < gate.quality_threshold).mean())
    return out


def _header(qin: QualityInput, threshold: float, confidence: float, bootstrap: int, seed: int):
    """The settings part of the result: the score's source and the conventions used."""
    return {
        "score": {
            "source": qin.source,
            "description": qin.description,
            "higher_is_better": True,
            "file": None if qin.file is None else dict(qin.file),
        },
        "threshold": threshold,
        "confidence": confidence,
        "bootstrap": {"replicates": bootstrap, "unit": "subject", "seed": seed},
        "pair_quality": (
            "1:1 mated comparisons: the lower of the probe's and the reference's quality (a "
            "reference without a score: the probe's); 1:N searches: the probe's quality"
        ),
        "edc_ties": "never split: largest realisable discard not above the target",
        "pauc_limit": qin.pauc_limit,
    }


def _pc(x: float | None) -> str:
    if x is None:
        return "n/a"
    v = 100 * x
    return f"{v:.1f}%" if v >= 1 or v == 0 else f"{v:.2g}%"


def _sentences(pooled_edc, best: QualityGate | None, rejected: Mapping, qin) -> list[str]:
    out = []
    if best is None:
        out.append(
            f"No quality gate cuts FNMR by {qin.min_relative_gain:.0%} or more with an interval "
            "of the change below zero: on these photos the quality score does not pay for the "
            "photos it would reject."
        )
    else:
        before, after = best.mated_before, best.mated_after
        worst = max(
            ((k, v) for k, v in rejected.items() if v is not None),
            key=lambda kv: kv[1],
            default=None,
        )
        where = ""
        if worst is not None and worst[1] > 0:
            where = f"; it rejects {_pc(worst[1])} of the photos under {worst[0]}, the most"
        ci = best.mated_change_ci
        ci_text = "" if ci is None else f" (95% CI {100 * ci[0]:+.1f} to {100 * ci[1]:+.1f} points)"
        out.append(
            f"Rejecting the {_pc(best.rejected_share)} lowest-quality probe photos (quality "
            f"below {best.quality_threshold:.3g}) cuts FNMR from {_pc(before.value)} to "
            f"{_pc(after.value)}{ci_text}, at the cost of asking those people for a new "
            f"photo{where}."
        )
    fn = pooled_edc.get("fnmr")
    if fn is not None:
        p = fn["pauc"]
        ci = p.get("ci")
        ci_text = "" if not ci else f" (95% CI {ci[0]:.3g}-{ci[1]:.3g})"
        out.append(
            f"Over all conditions, the FNMR error-versus-discard area up to "
            f"{p['limit']:.0%} discarded is {p['value']:.3g}{ci_text}, against "
            f"{p['random']:.3g} for a score that knows nothing and {p['best']:.3g} for a "
            "perfect one."
        )
    return out
