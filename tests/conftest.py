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
