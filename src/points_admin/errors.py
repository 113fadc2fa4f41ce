"""How a command fails: one line on stderr, never a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """The command as a whole failed: a usage or configuration mistake, or AWS out of reach (exit 2)."""


class NotFound(Exception):
    """What a read-only command was asked to show does not exist: no such customer or wallet (exit 1)."""
