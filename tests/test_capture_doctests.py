"""The examples in the capture, quality and EDC docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "faceaudit.capture.degrade",
    "faceaudit.capture.geometry",
    "faceaudit.capture.profiles",
    "faceaudit.capture.quality",
    "faceaudit.capture.sweeps",
    "faceaudit.embedding.variants",
    "faceaudit.stats.edc",
    "faceaudit.stats.quality_gate",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
