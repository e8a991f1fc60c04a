"""The ``sekoia-async`` command line; needs the ``cli`` extra (``sekoia-async[cli]``)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``sekoia-async`` command (also ``python -m sekoia_async``)."""
    try:
        from ._app import main as app_main
    except ImportError as exc:  # click/rich missing: the extra was not installed
        sys.stderr.write(
            f"sekoia-async: the command line needs the 'cli' extra ({exc.name} is missing): "
            "pip install 'sekoia-async[cli]'\n"
        )
        raise SystemExit(2) from None
    app_main()
