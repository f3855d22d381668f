"""People (subjects) and the identities they are known by, encrypted at rest and found by blind index."""
