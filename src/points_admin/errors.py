"""The one way a command fails as a whole: a usage or configuration mistake, or AWS out of reach (exit 2)."""

from __future__ import annotations


class CommandError(Exception):
    """Printed as one line, never as a traceback."""
