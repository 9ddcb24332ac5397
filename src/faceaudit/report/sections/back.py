"""The report's back matter: methods, limitations, reproducibility (always present)."""

from __future__ import annotations

from faceaudit.report import format as fmt
from faceaudit.report import sentences as words
from faceaudit.report._data import Node
from faceaudit.report.blocks import Bullets, Cell, Col, Fact, Facts, Heading, Para, Row, Table
from faceaudit.report.sections._base import Ctx

DEFINITIONS = (
    ("Mated / mated comparison", "Two photos of the same person."),
    ("Non-mated / non-mated comparison", "Two photos of different people."),
    ("Threshold", "The score a comparison must reach to count as a match. Raising it makes false "
     "matches rarer and missed matches more common."),
    ("FMR (false match rate)", "Share of non-mated comparisons wrongly declared a match "
     "(ISO/IEC 19795-1)."),
    ("FNMR (false non-match rate)", "Share of mated comparisons wrongly rejected."),
    ("EER (equal error rate)", "The rate where FMR and FNMR are equal; a one-number summary, not "
     "an operating point."),
    ("FTA (failure to acquire)", "An image in which no usable face was found. Generalised rates "
     "count these as errors, as ISO/IEC 19795-1 does."),
    ("FPIR (false positive identification rate)", "Share of searches for someone not in the "
     "gallery that still return a candidate at or above the threshold (NIST FRTE 1:N)."),
    ("FNIR (false negative identification rate)", "Share of searches for someone in the gallery "
     "that fail to return them at or above the threshold within the ranks considered."),
    ("Wrong person at rank 1", "Share of searches for an enrolled person whose top candidate, "
     "above the threshold, is someone else: what a field app shows first."),
    ("Prevalence", "The share of the people searched who are truly in the gallery. Not measured "
     "by an audit: an assumption about the deployment."),
    ("PPV (positive predictive value)", "The chance that the person a hit shows is the person "
     "photographed; “1 in X hits is the wrong person” means X = 1 / (1 − PPV)."),
    ("Confidence interval (CI)", "The range the true rate plausibly lies in, given how much data "
     "there is, estimated by resampling people (bootstrap)."),
    ("Rule of 3", "With no errors in n trials, the true rate is below about 3/n with 95% "
     "confidence. Shown as “≤ x”."),
    ("Rule of 30", "A rate resting on fewer than 30 errors has a wide relative uncertainty."),
    ("Not supported", "Too few comparisons (or searches) to estimate a rate that small: at least "
     "3/target are needed, so no figure is given."),
)  # fmt: skip

REFERENCES = (
    "ISO/IEC 19795-1:2021, Biometric performance testing and reporting — Part 1: Principles and "
    "framework (terms, FMR/FNMR/FTA, generalised rates, subject bootstrap, rule of 3).",
    "ISO/IEC 19795-10:2024, Quantifying biometric system performance variation across "
    "demographic groups.",
    "P. Grother, M. Ngan, K. Hanaoka, Face Recognition Vendor Test Part 2: Identification, NIST "
    "IR 8271 (2019); NIST FRTE 1:N reports (FPIR, FNIR, investigation mode).",
    "P. Grother, M. Ngan, K. Hanaoka, Face Recognition Vendor Test Part 3: Demographic Effects, "
    "NIST IR 8280 (2019).",
    "J. J. Howard et al., Evaluating Proposed Fairness Models for Face Recognition Algorithms, "
    "arXiv:2203.05051 (2022): GARBE.",
    "G. Doddington et al., The NIST speaker recognition evaluation, Speech Communication 31 "
    "(2000): the rule of 30.",
    "C. J. Clopper, E. S. Pearson, Biometrika 26(4), 1934: exact binomial intervals.",
)

_SETTING_LABELS = {
    "orientation": "Score orientation",
    "bootstrap": "Bootstrap resamples (B)",
    "confidence": "Confidence level",
    "bootstrap_unit": "Bootstrap unit",
    "seed": "Random seed",
}


def methods_blocks(res: Node, ctx: Ctx) -> list:
    return [
        Heading("Definitions"),
        Facts(tuple(Fact(term, text) for term, text in DEFINITIONS)),
        Heading("Which data fixed each threshold"),
        Bullets(tuple(words.threshold_provenance(res)) or ("No threshold was set.",)),
        Heading("Intervals"),
        Bullets(tuple(words.interval_methods(res))),
        Heading("References"),
        Bullets(REFERENCES, "rules"),
    ]


def limitations_blocks(res: Node, ctx: Ctx) -> list:
    items = words.limitations(res)
    if not items:
        return [Para("None beyond the warnings and flags shown with the figures.")]
    return [Bullets(tuple(items), "flags")]


def _setting_text(key: str, v) -> str:
    if key == "confidence":
        return fmt.fmt_confidence(v)
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return fmt.fmt_value(v)
    if isinstance(v, int) and "seed" in key:
        return str(v)
    if isinstance(v, Node):
        return "; ".join(f"{k}: {_setting_text(k, x)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(_setting_text(key, x) for x in v) or "none"
    return fmt.fmt_value(v)


def command_line(settings: Node) -> str | None:
    """The command that ran (``settings.command_line``: a list of arguments or a string)."""
    cmd = settings.get("command_line")
    if cmd is None:
        return None
    if isinstance(cmd, list):
        import shlex

        return shlex.join(str(a) for a in cmd)
    return str(cmd)


def reproducibility_blocks(res: Node, ctx: Ctx) -> list:
    settings = res.obj("settings")
    out: list = []
    cmd = command_line(settings)
    out.append(
        Para(f"Command: {cmd}", "mono")
        if cmd
        else Para("The command line was not recorded in results.json.", "note")
    )
    inputs = res.objs("inputs")
    if inputs:
        rows = tuple(
            Row(
                (
                    Cell(i.str("path"), mono=True),
                    Cell(i.str("sha256"), mono=True),
                    Cell(fmt.fmt_count(i.opt_int("records"))),
                )
            )
            for i in inputs
        )
        cols = (Col("Input file"), Col("SHA-256"), Col("Records", num=True))
        out += [Heading("Inputs"), Table(cols, rows, "inputs")]
    else:
        out.append(Para("No input files recorded.", "note"))
    keys = list(_SETTING_LABELS) + [k for k in settings if k not in _SETTING_LABELS]
    rows = [
        Fact(_SETTING_LABELS.get(k) or fmt.humanize_key(k), _setting_text(k, settings[k]))
        for k in keys
        if k in settings and k not in ("show_identities", "command_line")
    ]
    out += [Heading("Settings"), Facts(tuple(rows))]
    versions = res.obj("versions")
    out += [
        Heading("Versions"),
        Facts(
            (Fact("faceaudit", res.str("faceaudit_version")),)
            + tuple(Fact(k, str(v)) for k, v in versions.items())
        ),
    ]
    seeds = _seeds(res)
    if seeds:
        out += [Heading("Random seeds"), Facts(tuple(Fact(k, v) for k, v in seeds))]
    return out


def _seeds(res: Node) -> list[tuple[str, str]]:
    out = [
        (fmt.humanize_key(k), str(v))
        for k, v in res.obj("settings").items()
        if "seed" in k and isinstance(v, int)
    ]
    for key in ("identification", "scale", "demographics", "identification_demographics"):
        if key in res and "seed" in res.obj(key).obj("bootstrap"):
            out.append(
                (f"Bootstrap of {key.replace('_', ' ')}", str(res[key]["bootstrap"]["seed"]))
            )
    return out
