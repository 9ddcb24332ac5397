"""Shared test configuration."""

from pathlib import Path

import pytest
from hypothesis import settings

# CI machines are shared and slow at times: property tests check properties, not speed.
settings.register_profile("faceaudit", deadline=None, max_examples=100)
settings.load_profile("faceaudit")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The read-only face images of ``../shared/data``; skips when that folder is absent."""
    if not (SHARED_DATA / "orl_faces").is_dir():
        pytest.skip(f"shared face data not found at {SHARED_DATA} (a fresh clone outside CI)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _results_json_follow_the_schema(request):
    """Every ``results.json`` a test writes under its ``tmp_path`` matches docs/results.schema.json.

    Checked at teardown, only for tests that asked for ``tmp_path`` (nothing is created for the
    others); the schema is compiled once per session.
    """
    if "tmp_path" not in request.fixturenames:
        yield
        return
    tmp = request.getfixturevalue("tmp_path")  # before yield: torn down after this fixture
    yield
    import json

    from test_results_schema import problems

    for path in sorted(tmp.rglob("results.json")):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a test of unreadable output: not a results.json of ours
        bad = problems(results)
        if bad:
            rel = path.relative_to(tmp)
            pytest.fail(
                f"{rel} does not match docs/results.schema.json:\n" + "\n".join(bad),
                pytrace=False,
            )


@pytest.fixture(scope="session")
def impact_json() -> dict:
    """``ImpactResult.to_json()`` of a small run with replicates, a band, user points and groups."""
    from test_report_fixtures import impact_result

    return impact_result().to_json()


@pytest.fixture(scope="session")
def field_log_json() -> dict:
    """``FieldLogResult.to_json()`` of the Met's 2024-25 counts (docs/impact.md, section 7)."""
    from test_report_fixtures import field_log_result

    return field_log_result().to_json()
