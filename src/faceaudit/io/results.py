"""Reading a faceaudit ``results.json`` back (e.g. to carry a 1:N audit into ``impact``)."""

from __future__ import annotations

import json
import os

from faceaudit.data import InputFile
from faceaudit.errors import InputError
from faceaudit.io._checks import check_file, sha256_of

__all__ = ["identification_counts", "read_results"]


def read_results(path: str | os.PathLike[str]) -> tuple[dict, InputFile]:
    """The results dict of a results.json faceaudit wrote, and the file as an input."""
    p = check_file(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"is not a JSON file ({exc}).", path=path) from None
    if not isinstance(data, dict) or "faceaudit_version" not in data:
        raise InputError("is not a results.json written by faceaudit.", path=path)
    return data, InputFile(str(path), sha256_of(p), 1)


def identification_counts(results: dict, *, fpir_target: float | None, path) -> dict:
    """The 1:N counts at one operating point of a results dict (keyword arguments of
    :class:`faceaudit.audits.impact.SearchCounts`).

    The point is the one chosen for ``fpir_target``, or (None) the first supported one.
    """
    ident = results.get("identification")
    if not isinstance(ident, dict):
        raise InputError("holds no 1:N (identification) results to carry into impact.", path=path)
    points = [p for p in ident.get("operating_points", []) if p.get("supported")]
    if fpir_target is not None:
        points = [p for p in points if p.get("fpir_target") == fpir_target]
    if not points:
        targets = [p.get("fpir_target") for p in ident.get("operating_points", [])]
        raise InputError(
            f"has no supported 1:N operating point for FPIR target {fpir_target!r} (targets: "
            f"{targets}).",
            path=path,
        )
    p = points[0]
    try:
        n_mated = int(p["fnir_rank1"]["n"])
        return {
            "nonmated_hits": int(p["fpir"]["count"]),
            "n_nonmated": int(p["fpir"]["n"]),
            "mated_correct": n_mated - int(p["fnir_rank1"]["count"]),
            "mated_wrong": int(p["wrong_top1"]["count"]),
            "n_mated": n_mated,
            "gallery_size": int(ident["gallery_size"]),
            "threshold": p["threshold"],
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"has an incomplete 1:N operating point ({exc}).", path=path) from None
