"""The HTTP edge: the resolver and its one mapping of errors to HTTP, query and header parameters, the
Idempotency-Key replay, the OpenAPI declarations of responses."""
