"""The local stack (`make run`): the service on loopback with an embedded AWS, no Docker."""

LOCAL_AWS_PORT = 4566
"""Where `points-local` serves its embedded AWS by default, and where `points-admin --local` looks."""
