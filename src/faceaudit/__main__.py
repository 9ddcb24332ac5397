"""``python -m faceaudit``: the same as the ``faceaudit`` command."""

from faceaudit.cli import main

main()
