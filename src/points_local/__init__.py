"""The local stack (`make run`): the service on loopback with an embedded AWS, no Docker."""

LOCAL_AWS_PORT = 4566
"""Where `points-local` serves its embedded AWS by default, and where `points-admin --local` looks."""
LOCAL_REGION = "eu-west-1"
"""The region `points-local` runs in by default, and the one `points-admin --local` assumes."""
