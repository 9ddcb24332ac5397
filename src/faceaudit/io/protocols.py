"""Standard verification protocols read from their own files: LFW, CFP, pair lists, IJB-B/C.

Each reader returns a :class:`~faceaudit.data.protocols.PairProtocol` (or, for a template
protocol's image list, a :class:`~faceaudit.data.protocols.TemplateMetadata`) whose sample ids are
image paths relative to the data set's folder, so that they name the same images as
``faceaudit embed`` does on that folder. :func:`resolve_pairs` then matches them to an
:class:`~faceaudit.data.EmbeddingSet` (by path, tolerating extra or missing leading folders), and
:func:`check_image_folder` to the images on disk. Every malformed line raises
:class:`~faceaudit.errors.InputError` naming the file and the line (1-based, as an editor shows it).

Formats
-------
LFW ``pairs.txt`` (:func:`read_lfw_pairs`; the LFW README, section "pairs.txt format")
    First line ``folds pairs``: the number of sets and of matched pairs per set (View 2:
    ``10 300``; View 1's ``pairsDevTrain.txt`` / ``pairsDevTest.txt`` give only the number of
    pairs: one set). Then, for each set in turn, ``pairs`` matched lines ``name n1 n2`` and
    ``pairs`` mismatched lines ``name1 n1 name2 n2`` (tab- or space-separated). Image ``n`` of
    ``name`` is ``name/name_%04d.jpg``. Set ``k`` is fold ``k``.
CFP (:func:`read_cfp_pairs`; the layout of ``cfp-dataset.zip``)
    ``Protocol/Pair_list_F.txt`` and ``Protocol/Pair_list_P.txt``: lines ``index path``, the
    frontal and profile images, paths relative to ``Protocol/`` (``../Data/Images/001/frontal/
    01.jpg``). ``Protocol/Split/FF/01 .. 10`` and ``Protocol/Split/FP/01 .. 10``: ``same.txt``
    and ``diff.txt``, lines ``i,j`` of 1-based indices; frontal-frontal pairs index the frontal
    list twice, frontal-profile pairs the frontal then the profile list. The split's folder is the
    fold. The subject is the folder above ``frontal/`` or ``profile/`` (``001``).
Pair lists (:func:`read_pair_list`: AgeDB-30-style lists and the text form of insightface's
verification sets)
    One pair a line: ``path1 path2 label`` or ``path1,path2,label``, optionally a fourth column
    ``fold`` (1..K) and a header line (third column named ``label``, ``issame``, ``is_same``,
    ``same`` or ``mated``). Labels: 1 / 0 / -1 (AgeDB's MATLAB protocol writes -1 for "different"),
    ``true`` / ``false``, ``same`` / ``diff``. Without a fold column, ``folds=K`` splits the list
    into K consecutive blocks, as insightface's ``verification.py`` does for its ``.bin`` sets
    (scikit-learn ``KFold(K, shuffle=False)``: the first ``n % K`` folds one pair longer). Lines
    starting with ``#`` are comments.
IJB-B / IJB-C template protocols (:func:`read_template_metadata`, :func:`read_template_pairs`)
    Template metadata, either NIST's CSV files (``ijbb_1N_gallery_S1.csv``,
    ``ijbc_1N_probe_mixed.csv``, ...: a header with ``TEMPLATE_ID``, ``SUBJECT_ID``,
    ``FILENAME`` (or ``FILE``) and optionally ``SIGHTING_ID`` / ``MEDIA_ID``; lower-case
    ``tid``, ``sid``, ``filename``, ``mid`` also accepted) or insightface's
    ``*_face_tid_mid.txt`` (``filename tid mid``, no header, no subjects). Several files may be
    given: a template's subject is taken from whichever file names it, and an image listed for a
    template in two files is one image. Match lists: NIST's ``*_11_*_matches.csv`` (``t1,t2``)
    or insightface's ``*_template_pair_label.txt`` (``t1 t2 label``); without labels, a pair is
    mated when its templates' subjects are equal.

Modules
-------
The readers live in :mod:`~faceaudit.io.protocol_lfw_cfp` (LFW, CFP),
:mod:`~faceaudit.io.protocol_lists` (pair lists), :mod:`~faceaudit.io.protocol_templates`
(IJB-B/C) and :mod:`~faceaudit.io.protocol_resolve` (matching to embeddings and images); this
module gathers them under one import path.
"""

from __future__ import annotations

from faceaudit.io._protocol_lines import LFW_CONVENTION
from faceaudit.io.protocol_lfw_cfp import read_cfp_pairs, read_lfw_pairs
from faceaudit.io.protocol_lists import contiguous_folds, read_pair_list
from faceaudit.io.protocol_resolve import check_image_folder, resolve_pairs, template_embeddings
from faceaudit.io.protocol_templates import read_template_metadata, read_template_pairs

__all__ = [
    "LFW_CONVENTION",
    "check_image_folder",
    "contiguous_folds",
    "read_cfp_pairs",
    "read_lfw_pairs",
    "read_pair_list",
    "read_template_metadata",
    "read_template_pairs",
    "resolve_pairs",
    "template_embeddings",
]
