"""The ``sekoia-async`` command line (needs the ``cli`` extra). PLACEHOLDER."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the ``sekoia-async`` command."""
    sys.stderr.write("sekoia-async: the command line is not built yet\n")
    raise SystemExit(2)
