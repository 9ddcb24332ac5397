"""faceaudit: measure how often a face-recognition "match" is wrong, and for whom.

Central concept
---------------
An **audit** takes what a user can get from a system — comparison scores, candidate lists,
embeddings or photos — and returns a :class:`~faceaudit.audits.Run`: typed results (every rate
with its count, n and confidence interval), the inputs with their checksums, the settings and the
warnings. ``run.write(folder)`` writes ``results.json`` (the contract, ``docs/results.md``), a
self-contained ``report.html`` and figures; the command line does nothing else::

    from faceaudit import audit_scores
    from faceaudit.io.scores import load_scores

    run = audit_scores(load_scores(table="comparisons.csv"), fmr_targets=[1e-3])
    run["verification"].operating_points[0].fnmr      # Rate(count, n, ci, upper_bound)
    run.write("audit/")

Underneath, scores are kept as **mergeable distributions** (:mod:`faceaudit.stats`): exact counts
on a fixed grid plus the exact extreme scores, merged by addition, so one engine serves 10^8
scores in bounded memory, bootstrap replicates and per-group splits.

Vocabulary and conventions (ISO/IEC 19795-1:2021; NIST FRTE 1:N)
-----------------------------------------------------------------
- **mated / non-mated** (ISO/IEC 19795-1:2021, NIST): a comparison or search of the same / a
  different person, in code (``mated``, ``nonmated``, ``n_nonmated``), in results.json and in
  the report. genuine / impostor (the words of pyeer and of older papers) are accepted only at
  the input boundary: the ``--genuine`` / ``--impostor`` flags of ``faceaudit errors``, pyeer file
  names, and ``genuine`` / ``impostor`` as labels in pair lists.
- Higher score = more similar; a comparison matches when ``score >= threshold``. Distance scores
  are negated once, by the reader; thresholds return to the file's units only when results are
  written (:mod:`faceaudit.data.orientation`).
- Names say the biometric quantity: ``fmr``, ``fnmr``, ``fpir``, ``fnir``, ``gallery_size``;
  rates are fractions in [0, 1].

Layers (each imports only from the layers below it; checked in CI by import-linter)
-----------------------------------------------------------------------------------
============================  ===================================================================
``cli``, ``commands``         parse options, call ONE audit, show progress, errors -> exit 2
``audits``                    one call per audit -> :class:`~faceaudit.audits.Run`
``report``                    figures, HTML and sentences from typed results
``analyses``                  the analyses: typed results with n and CI, no files
``compare``, ``embedding``    pairs and 1:N search; images -> embeddings (cached, parallel)
``recognizers``               one module per offline face model
``stats`` | ``io``            the engine (arrays in, counts out) | files in, domain types out
``data``                      frozen domain types: ComparisonScores, CandidateLists, ...
``params``, ``output``        parameter validation; atomic, marked output folders
============================  ===================================================================
"""

from faceaudit._version import __version__

_API = (
    "GroupBy",
    "Run",
    "audit_candidates",
    "audit_capture",
    "audit_compare",
    "audit_compare_models",
    "audit_demo",
    "audit_embeddings",
    "audit_images",
    "audit_scale",
    "audit_scores",
    "audit_search",
)

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """The audit calls, imported on first use (``import faceaudit`` stays light for the CLI)."""
    if name in _API:
        from faceaudit import audits

        return getattr(audits, name)
    raise AttributeError(f"module 'faceaudit' has no attribute {name!r}")
