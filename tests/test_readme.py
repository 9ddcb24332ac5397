"""The README's Python example runs as written (on a copy of a golden fixture)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = Path(__file__).parent / "golden" / "inputs"


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_python_api_example_runs_as_written(tmp_path, monkeypatch, capsys):
    blocks = python_blocks()
    assert blocks, "the README has no Python example"
    shutil.copy(INPUTS / "ties.csv", tmp_path / "comparisons.csv")
    shutil.copy(INPUTS / "subjects.csv", tmp_path / "subjects.csv")
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    results = json.loads((tmp_path / "audit" / "results.json").read_text())
    assert {"verification", "demographics"} <= set(results)
    assert (tmp_path / "audit" / "report.html").is_file()
    assert capsys.readouterr().out.strip()  # it printed the FNMR, its interval and n
