"""IJB-B / IJB-C template metadata and match lists (formats: :mod:`faceaudit.io.protocols`)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from faceaudit.data.protocols import (
    PairProtocol,
    TemplateMetadata,
    normalise_sample_id,
)
from faceaudit.errors import InputError
from faceaudit.io._protocol_lines import (
    _duplicate_warning,
    _label,
    _protocol,
    _read_lines,
    _source,
    _split_fields,
)

# ------------------------------------------------------------------------------------------------
# IJB-B / IJB-C templates

_TEMPLATE_COLS = ("template_id", "tid", "template")
_SUBJECT_COLS = ("subject_id", "sid", "subject")
_FILE_COLS = ("filename", "file", "sample", "path")
_MEDIA_COLS = ("media_id", "mid", "sighting_id", "media")


def _column(header: list[str], names: Sequence[str]) -> int | None:
    low = [h.strip().lower() for h in header]
    for name in names:
        if name in low:
            return low.index(name)
    return None


def _read_metadata_file(path) -> tuple[Path, list[tuple[str, str, str, str, int]], int]:
    p, lines = _read_lines(path, "template metadata")
    head_ln, head = lines[0]
    rows: list[tuple[str, str, str, str, int]] = []
    if "," in head:
        header = next(csv.reader([head]))
        ti, si = _column(header, _TEMPLATE_COLS), _column(header, _SUBJECT_COLS)
        fi, mi = _column(header, _FILE_COLS), _column(header, _MEDIA_COLS)
        if ti is None or fi is None:
            raise InputError(
                f"the header {header} lacks TEMPLATE_ID and FILENAME; expected NIST's IJB "
                "columns (TEMPLATE_ID, SUBJECT_ID, FILENAME[, SIGHTING_ID]).",
                path=p,
                line=head_ln,
            )
        need = max(c for c in (ti, si, fi, mi) if c is not None) + 1
        for ln, text in lines[1:]:
            f = next(csv.reader([text]))
            if len(f) < need:
                raise InputError(
                    f"has {len(f)} fields; the header needs at least {need}.", path=p, line=ln
                )
            t, fn = f[ti].strip(), f[fi].strip()
            s = f[si].strip() if si is not None else ""
            m = f[mi].strip() if mi is not None else ""
            if not t:
                raise InputError("the template id is empty.", path=p, line=ln)
            if not fn:
                raise InputError("the file name is empty.", path=p, line=ln)
            rows.append((t, normalise_sample_id(fn), s, m, ln))
    else:
        for ln, text in lines:
            f = text.split()
            if len(f) != 3:
                raise InputError(
                    f"expected insightface's 'filename tid mid' (3 fields) or a CSV with a "
                    f"header; got {len(f)} fields.",
                    path=p,
                    line=ln,
                )
            rows.append((f[1], normalise_sample_id(f[0]), "", f[2], ln))
    if not rows:
        raise InputError("holds a header but no image.", path=p)
    return p, rows, len(lines)


def read_template_metadata(*paths: str | os.PathLike[str]) -> TemplateMetadata:
    """Read the images of each template (IJB-B/C); see the module docstring for the formats.

    Parameters
    ----------
    *paths : path-like
        One or more metadata files (e.g. the gallery and probe CSVs, and/or insightface's
        ``*_face_tid_mid.txt``).

    Raises
    ------
    InputError
        No file; an unknown layout; an empty template id or file name; a template given two
        different subjects; an image of a template given two different media.
    """
    if not paths:
        raise InputError("give at least one template metadata file.")
    seen: dict[tuple[str, str], int] = {}  # (template, sample) -> row
    templates, samples, subjects, media, origin, lines = [], [], [], [], [], []
    subject_of: dict[str, tuple[str, str, int]] = {}
    sources, records = [], []
    repeated = 0
    for src, path in enumerate(paths):
        p, rows, n = _read_metadata_file(path)
        sources.append(p)
        records.append(n)
        for t, fn, s, m, ln in rows:
            if s:
                prev = subject_of.get(t)
                if prev is not None and prev[0] != s:
                    raise InputError(
                        f"template {t} is given subject {s} here but subject {prev[0]} in "
                        f"{prev[1]}, line {prev[2]}; a template is of one person.",
                        path=p,
                        line=ln,
                    )
                subject_of.setdefault(t, (s, str(p), ln))
            key = (t, fn)
            row = seen.get(key)
            if row is not None:
                if m and media[row] and media[row] != m:
                    raise InputError(
                        f"image {fn} of template {t} is given media {m} here but {media[row]} "
                        f"in {sources[origin[row]]}, line {lines[row]}.",
                        path=p,
                        line=ln,
                    )
                if m:
                    media[row] = m
                repeated += 1
                continue
            seen[key] = len(templates)
            templates.append(t)
            samples.append(fn)
            subjects.append(s)
            media.append(m)
            origin.append(src)
            lines.append(ln)
    subjects = [subject_of.get(t, ("",))[0] for t in templates]
    warnings = []
    if repeated:
        warnings.append(
            f"{repeated} image row(s) repeat an image of the same template (within or across "
            "files); each image is pooled once."
        )
    unnamed = len({t for t, s in zip(templates, subjects, strict=True) if not s})
    if unnamed:
        warnings.append(
            f"{unnamed} template(s) have no subject in the metadata; give NIST's CSV files too, "
            "or intervals resample templates instead of people."
        )
    n = len(templates)
    return TemplateMetadata(
        templates=np.asarray(templates, dtype=str).reshape(n),
        samples=np.asarray(samples, dtype=str).reshape(n),
        subjects=np.asarray(subjects, dtype=str).reshape(n),
        media=np.asarray(media, dtype=str).reshape(n),
        origin=np.asarray(origin, dtype=np.int32),
        lines=np.asarray(lines, dtype=np.int64),
        sources=tuple(str(s) for s in sources),
        inputs=tuple(_source(s, r) for s, r in zip(sources, records, strict=True)),
        warnings=tuple(warnings),
    )


def read_template_pairs(
    path: str | os.PathLike[str],
    metadata: TemplateMetadata | None = None,
    *,
    name: str = "template pairs",
) -> PairProtocol:
    """Read a template match list (``t1 t2 label`` or ``t1,t2``) as a :class:`PairProtocol`.

    The pairs' sample ids are template ids: pool the images first
    (:func:`template_embeddings`), then :func:`resolve_pairs` against the pooled set.

    Parameters
    ----------
    path : path-like
    metadata : TemplateMetadata, optional
        Needed when the list has no labels (mated = same subject), and to name the subjects
        (bootstrap units); when given, every template of the list must be in it.

    Raises
    ------
    InputError
        A line without 2 or 3 fields; an unknown label; a template not in ``metadata``; no labels
        and no subjects to derive them; a label that contradicts the templates' subjects.
    """
    p, lines = _read_lines(path, "template match list")
    head = _split_fields(lines[0][1])
    if head and head[0].strip().lower().replace("_", "") in {
        "t1", "tid1", "templateid1", "template1", "enrolltemplateid", "templateida",
    }:  # fmt: skip
        lines = lines[1:]
    subject_of = metadata.template_subjects() if metadata is not None else {}
    first, second, labels, lns = [], [], [], []
    width = None
    for ln, text in lines:
        f = _split_fields(text)
        if len(f) not in (2, 3):
            raise InputError(
                f"expected 't1 t2 label' or 't1,t2' (template ids), got {len(f)} fields.",
                path=p,
                line=ln,
            )
        if width is None:
            width = len(f)
        elif len(f) != width:
            raise InputError(f"has {len(f)} fields but line {lns[0]} has {width}.", path=p, line=ln)
        for t in f[:2]:
            if not t:
                raise InputError("a template id is empty.", path=p, line=ln)
            if metadata is not None and t not in subject_of:
                raise InputError(
                    f"template {t} is not in the template metadata "
                    f"({', '.join(metadata.sources)}).",
                    path=p,
                    line=ln,
                )
        first.append(f[0])
        second.append(f[1])
        if len(f) == 3:
            labels.append(_label(f[2], p, ln))
        lns.append(ln)
    s1 = [subject_of.get(t, "") for t in first]
    s2 = [subject_of.get(t, "") for t in second]
    if labels:
        mated = labels
        for i, (a, b, m) in enumerate(zip(s1, s2, mated, strict=True)):
            if a and b and (a == b) != m:
                raise InputError(
                    f"the label says {'mated' if m else 'non-mated'} but template {first[i]} is "
                    f"subject {a} and template {second[i]} subject {b}.",
                    path=p,
                    line=lns[i],
                )
    else:
        mated = []
        for i, (a, b) in enumerate(zip(s1, s2, strict=True)):
            if not a or not b:
                raise InputError(
                    f"the list has no labels and the metadata names no subject for template "
                    f"{first[i] if not a else second[i]}; give labels or NIST's metadata CSVs.",
                    path=p,
                    line=lns[i],
                )
            mated.append(a == b)
    n = len(first)
    return _protocol(
        name,
        first,
        second,
        mated,
        s1,
        s2,
        [0] * n,
        0,
        [0] * n,
        lns,
        [p],
        [len(lines)],
        "TAR (1 - FNMR) at FAR (FMR) targets over all listed template pairs (no folds).",
        _duplicate_warning(first, second),
    )
