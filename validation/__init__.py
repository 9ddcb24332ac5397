"""Validation studies of faceaudit's intervals and extrapolations (run by hand, not in CI).

* :mod:`validation.generators` - data generators with a known population truth, written apart
  from :mod:`faceaudit.synth` (a generator shared with the code under test could share its bugs);
* :mod:`validation.adapter` - the ONLY module that calls faceaudit (an API move changes it alone);
* :mod:`validation.coverage` - coverage of every interval the tool prints;
* :mod:`validation.extrapolation` - gallery-size extrapolation bias and band coverage.

See ``docs/validation.md`` for the models, the method and the baseline results.
"""
