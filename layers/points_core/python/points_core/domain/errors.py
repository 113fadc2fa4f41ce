"""Errors that cross layers: a service can tell the request is unusable; the API maps it to HTTP."""

from __future__ import annotations


class InvalidInput(Exception):
    """The request cannot be understood at all (request-level 400)."""
