"""Strict reading of the results dict: a missing or mistyped field is a :class:`ReportError`.

The report reads ``results.json`` (``docs/results.md``, ``docs/results.schema.json``) through
:class:`Node`, a read-only view of one JSON object that knows its path. Every access names the
field it needs; a field that is absent, or present with the wrong type, stops the report with a
message naming the path (``$.verification.operating_points[2].fmr``) instead of silently leaving a
section out. Fields the contract documents as optional are read with :meth:`Node.get` (or the
``opt_*`` readers), and only those.

Rates come back as plain dicts that are checked to hold every key of the contract's rate
(``value, ci, count, n, upper_bound``) so :mod:`faceaudit.report.format` can print them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["Node", "ReportError"]

RATE_KEYS = ("value", "ci", "count", "n", "upper_bound")


class ReportError(ValueError):
    """The results given to the report lack a field it needs, or hold one of the wrong type.

    Raised instead of leaving a section out: a renamed key in an analysis' ``to_json`` must fail
    loudly, not make a figure disappear from the report.
    """


def _is_num(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


class Node(Mapping):
    """One JSON object of the results, read strictly (a :class:`~collections.abc.Mapping`)."""

    __slots__ = ("_d", "path")

    def __init__(self, data: Mapping[str, Any], path: str = "$") -> None:
        if not isinstance(data, Mapping):
            raise ReportError(f"{path} must be a JSON object, got {type(data).__name__}.")
        self._d = data
        self.path = path

    # -- Mapping ---------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key not in self._d:
            raise ReportError(
                f"The results lack {self.path}.{key}, which the report needs (see "
                "docs/results.md); was a key renamed or dropped?"
            )
        return self._wrap(self._d[key], f"{self.path}.{key}")

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def get(self, key: str, default: Any = None) -> Any:
        """A field the contract documents as optional."""
        return self[key] if key in self._d else default

    @staticmethod
    def _wrap(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return Node(value, path)
        if isinstance(value, list | tuple):
            return [Node._wrap(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    def _fail(self, key: str, want: str, got: Any) -> ReportError:
        return ReportError(f"{self.path}.{key} must be {want}, got {got!r:.80}.")

    # -- typed readers ---------------------------------------------------------------------------
    def obj(self, key: str) -> Node:
        v = self[key]
        if not isinstance(v, Node):
            raise self._fail(key, "a JSON object", v)
        return v

    def opt_obj(self, key: str) -> Node | None:
        """An object or null (the key itself must be there)."""
        return None if self[key] is None else self.obj(key)

    def list(self, key: str) -> list:
        v = self[key]
        if not isinstance(v, list):
            raise self._fail(key, "a list", v)
        return v

    def objs(self, key: str) -> list[Node]:
        """A list of objects."""
        out = self.list(key)
        for i, v in enumerate(out):
            if not isinstance(v, Node):
                raise self._fail(f"{key}[{i}]", "a JSON object", v)
        return out

    def num(self, key: str) -> float:
        v = self[key]
        if not _is_num(v):
            raise self._fail(key, "a finite number", v)
        return v

    def opt_num(self, key: str) -> float | None:
        return None if self[key] is None else self.num(key)

    def int(self, key: str) -> int:
        v = self[key]
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise self._fail(key, "a whole number", v)
        return int(v)

    def opt_int(self, key: str) -> int | None:
        return None if self[key] is None else self.int(key)

    def str(self, key: str) -> str:
        v = self[key]
        if not isinstance(v, str):
            raise self._fail(key, "a string", v)
        return v

    def opt_str(self, key: str) -> str | None:
        return None if self[key] is None else self.str(key)

    def bool(self, key: str) -> bool:
        v = self[key]
        if not isinstance(v, bool):
            raise self._fail(key, "true or false", v)
        return v

    def strs(self, key: str) -> list[str]:
        out = self.list(key)
        for i, v in enumerate(out):
            if not isinstance(v, str):
                raise self._fail(f"{key}[{i}]", "a string", v)
        return out

    # -- figures with intervals ------------------------------------------------------------------
    def _ci(self, node: Node) -> None:
        ci = node["ci"]
        if ci is not None and not (
            isinstance(ci, list) and len(ci) == 2 and all(_is_num(c) for c in ci)
        ):
            raise node._fail("ci", "[low, high] or null", ci)

    def rate(self, key: str) -> Node:
        """A rate ``{value, ci, count, n, upper_bound}`` (every key checked)."""
        r = self.obj(key)
        for k in RATE_KEYS:
            r[k]  # noqa: B018 - raises ReportError when absent
        self._ci(r)
        r.opt_num("value")
        r.opt_int("count")
        r.opt_int("n")
        r.bool("upper_bound")
        return r

    def band(self, key: str) -> Node:
        """A modelled figure ``{value, ci}`` (also an impact estimate ``{value, ci, reason}``)."""
        b = self.obj(key)
        b.opt_num("value")
        self._ci(b)
        return b

    def raw(self) -> Mapping[str, Any]:
        """The underlying dict (for code that only passes it on)."""
        return self._d
