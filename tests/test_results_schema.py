"""docs/results.schema.json: every golden results.json and every analysis' JSON follow it, and it
is strict enough that a renamed, missing or mistyped key fails."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import pytest

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "results.schema.json"


@functools.cache
def validator():
    """A compiled draft 2020-12 validator of the schema (built on first use)."""
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(results: dict, limit: int = 10) -> list[str]:
    """Every way ``results`` breaks the schema, as ``$.path: message`` lines (at most ``limit``)."""
    out = []
    for err in sorted(
        validator().iter_errors(results), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        out.append(f"{path}: {err.message[:300]}")
        if len(out) >= limit:
            break
    return out


GOLDEN = Path(__file__).resolve().parent / "golden" / "expected"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))


def restore(golden: dict) -> dict:
    """A golden as results.json had it: the volatile header keys the goldens drop put back."""
    res = copy.deepcopy(golden)
    res.setdefault("faceaudit_version", "0.0.0")
    res.setdefault("created", "2026-01-01T00:00:00+00:00")
    res.setdefault("versions", {"python": "3.11"})
    _paths(res)
    return res


def _paths(tree, counter=None) -> None:
    """Input files anywhere in the tree (``{"sha256", "records"}``) get back a path."""
    counter = counter if counter is not None else [0]
    if isinstance(tree, dict):
        if "sha256" in tree and "records" in tree and "path" not in tree:
            tree["path"] = f"input-{counter[0]}"
            counter[0] += 1
        for v in tree.values():
            _paths(v, counter)
    elif isinstance(tree, list):
        for v in tree:
            _paths(v, counter)


def golden(name: str) -> dict:
    return restore(json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8")))


def test_the_schema_is_a_valid_draft_2020_12_schema():
    v = validator()
    assert v.schema["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("name", CASES)
def test_every_golden_follows_the_schema(name):
    assert problems(golden(name)) == []


def test_goldens_cover_every_analysis_the_commands_write():
    keys = set()
    for name in CASES:
        keys |= set(golden(name))
    analyses = {"verification", "identification", "scale", "demographics",
                "identification_demographics"}  # fmt: skip
    assert analyses <= keys
    if "audit_orl" in CASES:
        assert {"acquisition", "model"} <= keys


def test_impact_and_field_log_follow_the_schema(impact_json, field_log_json):
    res = golden("errors_ties")
    res["impact"] = impact_json
    res["field_log"] = field_log_json
    assert problems(res) == []


def _where(res: dict, dotted: str):
    *head, last = dotted.split(".")
    node = res
    for k in head:
        node = node[int(k)] if k.isdigit() else node[k]
    return node, (int(last) if last.isdigit() else last)


@pytest.mark.parametrize(
    ("case", "dotted"),
    [
        ("demo", "verification.operating_points.0.fnmr.count"),
        ("demo", "verification.eer.threshold"),
        ("demo", "identification.operating_points.0.wrong_top1"),
        ("demo", "scale.points.0.fpir.ci"),
        ("demo", "demographics.groups.0.fmr_supported"),
        ("demo", "demographics.coverage.subjects_without_metadata"),
        ("identify_embeddings", "identification_demographics.overall_fnir"),
        ("scale", "scale.tail_fit.threshold_u"),
        ("demo", "settings"),
        ("demo", "inputs.0.sha256"),
    ],
)
def test_a_missing_key_fails(case, dotted):
    res = golden(case)
    node, key = _where(res, dotted)
    del node[key]
    assert problems(res), f"deleting {dotted} went unnoticed"


@pytest.mark.parametrize(
    ("case", "dotted"),
    [
        ("demo", "verification.operating_points.0.fmr"),
        ("demo", "identification.cmc.0"),
        ("demo", "demographics.groups.0"),
        ("demo", "scale.rank1_accuracy"),
        ("demo", "verification"),
        ("demo", ""),
    ],
)
def test_a_renamed_or_unknown_key_fails(case, dotted):
    res = golden(case)
    node = res
    for k in [k for k in dotted.split(".") if k]:
        node = node[int(k)] if k.isdigit() else node[k]
    node["unexpected_key"] = 1
    assert problems(res), f"an extra key under {dotted or '$'} went unnoticed"


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("verification.operating_points.0.fmr.ci", [0.1]),
        ("verification.operating_points.0.fmr.count", 1.5),
        ("verification.operating_points.0.supported", "yes"),
        ("settings.confidence", 1.5),
        ("demographics.mode", "identification"),
        ("synthetic", "true"),
        ("scale.points.0.fpir", {"value": 0.1, "ci": None}),  # a measured point needs a rate
    ],
)
def test_a_mistyped_value_fails(dotted, value):
    res = golden("demo")
    node, key = _where(res, dotted)
    node[key] = value
    assert problems(res), f"{dotted} = {value!r} went unnoticed"


def test_problems_name_the_path():
    res = golden("demo")
    del res["verification"]["operating_points"][1]["fnmr"]
    (line,) = problems(res)
    assert line.startswith("$.verification.operating_points[1]:") and "'fnmr'" in line
