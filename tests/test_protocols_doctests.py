"""The examples in the protocol and paired-statistics docstrings run and give what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "faceaudit.data.protocols",
    "faceaudit.io.protocol_lfw_cfp",
    "faceaudit.io.protocol_lists",
    "faceaudit.stats.folds",
    "faceaudit.stats.mcnemar",
    "faceaudit.stats.multiplicity",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
