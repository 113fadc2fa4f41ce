"""Use cases: no HTTP and no event shapes here."""
