"""The sub-commands of the ``faceaudit`` command line: one module each, thin over the audits."""
