"""Assembling and writing an audit's output folder: results.json, report.html, figures/, log.

``results.json`` is the contract scripts rely on (docs/results.md): ``faceaudit_version``,
``created``, ``title``, ``synthetic``, ``inputs`` (``{path, sha256, records}``), ``settings``,
``versions``, ``warnings`` and one key per analysis (``verification``, ``identification``, ...).
"""

from __future__ import annotations

import datetime as _dt
import platform
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from faceaudit import __version__
from faceaudit.output import OutputDir, dump_json, write_atomic

_VERSIONED = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib", "faiss-cpu", "dlib-bin")


def library_versions(names: Iterable[str] = _VERSIONED) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def new_results(
    *,
    title: str,
    inputs: Iterable[Any] = (),
    settings: dict | None = None,
    synthetic: bool = False,
    warnings: Iterable[str] = (),
) -> dict:
    """The common head of every results.json; analyses add their own keys."""
    return {
        "faceaudit_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "title": title,
        "synthetic": bool(synthetic),
        "inputs": [i.to_json() if hasattr(i, "to_json") else dict(i) for i in inputs],
        "settings": dict(settings or {}),
        "versions": library_versions(),
        "warnings": list(warnings),
    }


def write_output(
    results: dict, out: str | Path, *, force: bool = False, report: bool = True, log: str = ""
) -> Path:
    """Write ``results.json`` (+ ``report.html``, ``figures/``) atomically into folder ``out``."""
    out = Path(out)
    with OutputDir(out, force=force) as tmp:
        (tmp / "results.json").write_text(dump_json(results), encoding="utf-8")
        if log:
            (tmp / "faceaudit.log").write_text(log, encoding="utf-8")
        if report:
            from faceaudit.report import write_report

            write_report(results, tmp)
    return out


def emit_json(results: dict, target: str, *, force: bool = False) -> None:
    """``--json -`` prints the JSON on stdout; ``--json FILE`` writes it atomically."""
    text = dump_json(results)
    if target == "-":
        import sys

        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(target, text, force=force)
