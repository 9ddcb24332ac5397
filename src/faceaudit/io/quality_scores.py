"""Per-image quality scores from a CSV file: OFIQ's output, or any table of image and score.

OFIQ (the ISO/IEC 29794-5 reference implementation, BSI) writes, from ``OFIQSampleApp -o file``,
a semicolon-separated table (read from ``OFIQlib/src/OFIQSampleApp.cpp``)::

    Filename;UnifiedQualityScore;BackgroundUniformity;...;UnifiedQualityScore.scalar;...;
    /data/s1/1.png;27.2;...;63;...

One column per measure with its native ("raw") value, then one ``<Measure>.scalar`` column per
measure on 0..100, in the same order; the header line ends with a ``;`` (an empty last name). A
measure that could not be computed has the scalar ``-1``. Measure names are OFIQ's enum names:
``UnifiedQualityScore``, ``BackgroundUniformity``, ``IlluminationUniformity``, ``LuminanceMean``,
``LuminanceVariance``, ``UnderExposurePrevention``, ``OverExposurePrevention``, ``DynamicRange``,
``Sharpness``, ``CompressionArtifacts``, ``NaturalColour``, ``SingleFacePresent``, ``EyesOpen``,
``MouthClosed``, ``EyesVisible``, ``MouthOcclusionPrevention``, ``FaceOcclusionPrevention``,
``InterEyeDistance``, ``HeadSize``, ``LeftwardCropOfTheFaceImage``, ``RightwardCropOfTheFaceImage``,
``MarginAboveOfTheFaceImage``, ``MarginBelowOfTheFaceImage``, ``HeadPoseYaw``, ``HeadPosePitch``,
``HeadPoseRoll``, ``ExpressionNeutrality``, ``NoHeadCoverings``. A file is read as OFIQ's when its
header has ``Filename`` and ``UnifiedQualityScore.scalar``: the score is the unified quality score
(scalar, 0..100; higher = better) and the components are every ``.scalar`` column, named without
the suffix; ``-1`` becomes "not assessed" (NaN).

Any other CSV (``,``, ``;`` or tab separated) needs an image column (``path``, ``image``,
``sample``, ``file`` or ``filename``, or ``id_column=``) and a score column (``quality``,
``quality_score`` or ``score``, or ``score_column=``); ``component_columns=`` names more. An empty
cell is "not assessed" (NaN). Higher must mean better quality.

Every error names the file and the line.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from faceaudit.errors import InputError
from faceaudit.io._checks import check_file, sha256_of

__all__ = ["OFIQ_SCORE", "QualityScores", "read_quality_scores"]

#: OFIQ's unified quality score column (0..100).
OFIQ_SCORE = "UnifiedQualityScore.scalar"
_ID_NAMES = ("path", "image", "sample", "file", "filename")
_SCORE_NAMES = ("quality", "quality_score", "score")


def _norm(path: str) -> str:
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


@dataclass(frozen=True, eq=False)
class QualityScores:
    """Quality scores of images, as read (see the module docstring).

    Attributes
    ----------
    ids : tuple of str
        The image column's values (paths as the tool wrote them), in file order; unique.
    score : ndarray of float64
        The quality score of each image (NaN: not assessed).
    components : dict of str -> ndarray of float64
        Component scores by name (OFIQ: every ``.scalar`` column, without the suffix).
    lines : tuple of int
        The line each row came from (1-based, header = line 1 unless blank lines precede it).
    source : str
    kind : str
        ``"ofiq"`` or ``"table"``.
    score_column : str
    sha256 : str
        Of the file's bytes.
    """

    ids: tuple[str, ...]
    score: np.ndarray
    components: dict[str, np.ndarray] = field(default_factory=dict)
    lines: tuple[int, ...] = ()
    source: str = ""
    kind: str = "table"
    score_column: str = ""
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    def lookup(self, samples: Sequence[str], *, match: str = "auto") -> np.ndarray:
        """Each sample's score (NaN when the file has no row for it), in ``samples`` order.

        Parameters
        ----------
        samples : sequence of str
            Sample ids, e.g. ``EmbeddingResult.samples`` (paths relative to the image folder).
        match : {"auto", "exact", "suffix"}
            ``exact``: the file's id equals the sample id (after ``\\`` -> ``/`` and dropping a
            leading ``./``). ``suffix``: the id ends with ``/<sample>`` (OFIQ writes the paths it
            was given, often absolute). ``auto``: exact where possible, else suffix.

        Raises
        ------
        InputError
            A sample matching two rows by suffix (naming both lines).
        """
        if match not in ("auto", "exact", "suffix"):
            raise InputError(f"match={match!r} is not one of auto, exact, suffix.")
        exact = {_norm(i): k for k, i in enumerate(self.ids)}
        by_name: dict[str, list[int]] = {}
        for k, i in enumerate(self.ids):
            by_name.setdefault(PurePosixPath(_norm(i)).name, []).append(k)
        out = np.full(len(samples), np.nan)
        for j, s in enumerate(samples):
            key = _norm(str(s))
            k = exact.get(key) if match != "suffix" else None
            if k is None and match != "exact":
                hits = [
                    r
                    for r in by_name.get(PurePosixPath(key).name, [])
                    if _norm(self.ids[r]) == key or _norm(self.ids[r]).endswith("/" + key)
                ]
                if len(hits) > 1:
                    raise InputError(
                        f"sample {s!r} matches rows at lines {self.lines[hits[0]]} and "
                        f"{self.lines[hits[1]]}; pass match='exact' or give unique paths.",
                        path=self.source,
                    )
                k = hits[0] if hits else None
            if k is not None:
                out[j] = self.score[k]
        return out

    def to_json(self) -> dict:
        """``{source, sha256, kind, score_column, n_images, n_not_assessed, components}``."""
        return {
            "source": self.source,
            "sha256": self.sha256,
            "kind": self.kind,
            "score_column": self.score_column,
            "n_images": len(self.ids),
            "n_not_assessed": int(np.isnan(self.score).sum()),
            "components": list(self.components),
        }


def _read_rows(p: Path, path) -> tuple[list[str], int, list[tuple[int, list[str]]]]:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"could not be read ({exc.strerror}).", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("is not UTF-8 text; save it as UTF-8 CSV.", path=path, line=line) from None
    lines = text.splitlines()
    first = next((k for k, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise InputError("holds no text; give a table of images and quality scores.", path=path)
    head = lines[first]
    delimiter = ";" if ";" in head else ("\t" if "\t" in head and "," not in head else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if header is None:
                header = [f.strip() for f in fields]
                header_line = reader.line_num
                if header and header[-1] == "" and len(header) > 1:
                    header = header[:-1]  # OFIQ ends its header with the delimiter
                continue
            if len(fields) == len(header) + 1 and not fields[-1].strip():
                fields = fields[:-1]
            if len(fields) != len(header):
                raise InputError(
                    f"has {len(fields)} fields but the header (line {header_line}) has "
                    f"{len(header)}; the row is malformed or the file is truncated.",
                    path=path,
                    line=reader.line_num,
                )
            rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise InputError(
            f"is not valid CSV ({exc}); a quoted field may not be closed.",
            path=path,
            line=reader.line_num,
        ) from None
    assert header is not None
    return header, header_line, rows


def _column(header: list[str], name: str | None, defaults: tuple[str, ...], what: str, path):
    if name is not None:
        if name not in header:
            raise InputError(
                f"has no {what} column {name!r}; its columns are {', '.join(header)}.", path=path
            )
        return header.index(name)
    low = [h.lower() for h in header]
    for d in defaults:
        if d in low:
            return low.index(d)
    raise InputError(
        f"has no {what} column (looked for {', '.join(defaults)}); its columns are "
        f"{', '.join(header)}. Name it with {'id_column' if what == 'image' else 'score_column'}=.",
        path=path,
    )


def _number(text: str, column: str, line: int, path, *, ofiq: bool) -> float:
    t = text.strip()
    if not t:
        return float("nan")
    try:
        x = float(t)
    except ValueError:
        raise InputError(
            f"column {column!r} holds {t!r}, which is not a number.", path=path, line=line
        ) from None
    if not np.isfinite(x):
        raise InputError(
            f"column {column!r} holds {t!r}; leave the cell empty for an image not assessed.",
            path=path,
            line=line,
        )
    if ofiq and x == -1.0:
        return float("nan")  # OFIQ's "could not be assessed"
    return x


def read_quality_scores(
    path: str | os.PathLike[str],
    *,
    id_column: str | None = None,
    score_column: str | None = None,
    component_columns: Sequence[str] | None = None,
) -> QualityScores:
    """Read per-image quality scores (OFIQ's CSV or any image/score table).

    Parameters
    ----------
    path : path-like
    id_column, score_column : str, optional
        Override the columns found automatically (see the module docstring).
    component_columns : sequence of str, optional
        Further score columns to keep (default: OFIQ's ``.scalar`` columns; none for a table).

    Returns
    -------
    QualityScores

    Raises
    ------
    InputError
        Missing columns, a malformed row, a value that is not a number, an empty or duplicate
        image id: naming the file and the line.

    Examples
    --------
    >>> q = read_quality_scores("ofiq.csv")                         # doctest: +SKIP
    >>> q.kind, q.score_column, q.lookup(["s1/1.png"])              # doctest: +SKIP
    ('ofiq', 'UnifiedQualityScore.scalar', array([63.]))
    """
    p = check_file(path)
    header, header_line, rows = _read_rows(p, path)
    ofiq = "Filename" in header and OFIQ_SCORE in header
    i_id = _column(header, id_column or ("Filename" if ofiq else None), _ID_NAMES, "image", path)
    i_score = _column(
        header, score_column or (OFIQ_SCORE if ofiq else None), _SCORE_NAMES, "score", path
    )
    if component_columns is None:
        names = [h for h in header if ofiq and h.endswith(".scalar") and h != header[i_score]]
    else:
        names = list(component_columns)
    idx = [_column(header, n, (), "component", path) for n in names]
    ids: list[str] = []
    seen: dict[str, int] = {}
    scores = np.empty(len(rows))
    comps = {n: np.empty(len(rows)) for n in names}
    for r, (line, fields) in enumerate(rows):
        sample = fields[i_id].strip()
        if not sample:
            raise InputError(f"the image column {header[i_id]!r} is empty.", path=path, line=line)
        key = _norm(sample)
        if key in seen:
            raise InputError(
                f"image {sample!r} is listed twice (also at line {seen[key]}).",
                path=path,
                line=line,
            )
        seen[key] = line
        ids.append(sample)
        scores[r] = _number(fields[i_score], header[i_score], line, path, ofiq=ofiq)
        for n, k in zip(names, idx, strict=True):
            comps[n][r] = _number(fields[k], n, line, path, ofiq=ofiq)
    if not rows:
        raise InputError(f"has a header (line {header_line}) but no rows of scores.", path=path)
    shown = {
        (n[: -len(".scalar")] if ofiq and n.endswith(".scalar") else n): v for n, v in comps.items()
    }
    return QualityScores(
        ids=tuple(ids),
        score=scores,
        components=shown,
        lines=tuple(line for line, _ in rows),
        source=str(path),
        kind="ofiq" if ofiq else "table",
        score_column=header[i_score],
        sha256=sha256_of(p),
    )
