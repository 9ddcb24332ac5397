"""A run: one audit as it ran — typed results, inputs with checksums, settings, warnings.

Every audit call (:mod:`faceaudit.audits`) returns a :class:`Run`. ``run.to_json()`` is exactly
the ``results.json`` the command line writes (the contract in ``docs/results.md``), and
``run.write(folder)`` writes that folder: ``results.json``, ``report.html``, ``figures/`` and a
log, atomically (:mod:`faceaudit.output`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import platform
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

from faceaudit._version import __version__
from faceaudit.data import InputFile

__all__ = ["SILENT", "Progress", "Run", "library_versions"]

_VERSIONED = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib", "faiss-cpu", "dlib-bin")


def library_versions(names: Iterable[str] = _VERSIONED) -> dict[str, str]:
    """Versions of Python and the libraries whose behaviour the figures depend on."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class Progress(Protocol):
    """How a long audit reports what it is doing (the CLI shows it; a notebook may ignore it)."""

    def stage(self, text: str) -> contextlib.AbstractContextManager[None]:
        """A context around one stage (e.g. a spinner and its time)."""

    def bar(
        self, description: str, unit: str
    ) -> contextlib.AbstractContextManager[Callable[[int, int], None]]:
        """A context yielding ``update(done, total)`` for a stage with a known amount of work."""

    def note(self, text: str) -> None:
        """One line of information."""


class _Silent:
    def stage(self, text: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def bar(self, description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
        yield lambda done, total: None

    def note(self, text: str) -> None:
        return None


#: A :class:`Progress` that shows nothing (the default of every audit call).
SILENT: Progress = _Silent()


@dataclass(frozen=True)
class Run:
    """One audit: what it found and everything needed to reproduce and trust it.

    Attributes
    ----------
    title : str
    analyses : mapping of str to result
        ``results.json`` key -> typed result (anything with ``to_json()``), e.g.
        ``{"verification": VerificationResult}``; in ``to_json`` order.
    inputs : tuple of InputFile
        The files read, with SHA-256 checksums and record counts.
    settings : mapping
        Every setting the figures depend on (targets, bootstrap, seed, ...).
    warnings : tuple of str
        Plain sentences about the data or the analysis, most important first.
    synthetic : bool
        The data are synthetic (then every output says so).
    attachments : mapping of str to callable
        Extra files of the output folder: name -> ``write(path)`` (e.g. candidate lists).
    created : str
        When the run finished (UTC, ISO 8601).
    """

    title: str
    analyses: Mapping[str, Any]
    inputs: tuple[InputFile, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    synthetic: bool = False
    attachments: Mapping[str, Callable[[Path], None]] = field(default_factory=dict)
    created: str = field(default_factory=_now)

    def __getitem__(self, key: str) -> Any:
        """The typed result of one analysis: ``run["verification"].operating_points``."""
        return self.analyses[key]

    def with_analysis(
        self,
        key: str,
        result: Any,
        *,
        inputs: Iterable[InputFile] = (),
        settings: Mapping[str, Any] | None = None,
        warnings: Iterable[str] = (),
    ) -> Run:
        """This run with one more analysis, its inputs, settings and warnings (de-duplicated)."""
        have = {(i.path, i.sha256) for i in self.inputs}
        more_inputs = tuple(i for i in inputs if (i.path, i.sha256) not in have)
        more_warnings = tuple(w for w in warnings if w not in self.warnings)
        return replace(
            self,
            analyses={**self.analyses, key: result},
            inputs=self.inputs + more_inputs,
            settings={**self.settings, **(settings or {})},
            warnings=self.warnings + more_warnings,
        )

    def to_json(self) -> dict:
        """The content of ``results.json`` (see ``docs/results.md``)."""
        out = {
            "faceaudit_version": __version__,
            "created": self.created,
            "title": self.title,
            "synthetic": bool(self.synthetic),
            "inputs": [i.to_json() for i in self.inputs],
            "settings": dict(self.settings),
            "versions": library_versions(),
            "warnings": list(self.warnings),
        }
        for key, result in self.analyses.items():
            out[key] = result.to_json() if hasattr(result, "to_json") else result
        return out

    def write(
        self, out: str | Path, *, force: bool = False, report: bool = True, log: str = ""
    ) -> Path:
        """Write the output folder ``out`` atomically: results.json, report.html, figures/, log.

        An existing ``out`` is refused unless ``force`` is given, and even then it is replaced
        only if faceaudit wrote it (:class:`faceaudit.output.OutputDir`). Returns ``out``.
        """
        from faceaudit.output import OutputDir, dump_json

        results = self.to_json()
        out = Path(out)
        with OutputDir(out, force=force, inputs=[i.path for i in self.inputs]) as tmp:
            (tmp / "results.json").write_text(dump_json(results), encoding="utf-8")
            for name, writer in self.attachments.items():
                writer(tmp / name)
            if report:
                from faceaudit.report import write_report

                write_report(results, tmp)
            if log:
                (tmp / "faceaudit.log").write_text(log, encoding="utf-8")
        return out

    def write_json(self, target: str | Path, *, force: bool = False) -> None:
        """``results.json`` alone: to a file (atomically), or to standard output for ``"-"``."""
        from faceaudit.output import dump_json, write_atomic, write_stdout

        text = dump_json(self.to_json())
        if str(target) == "-":
            write_stdout(text)
        else:
            write_atomic(target, text, force=force)
