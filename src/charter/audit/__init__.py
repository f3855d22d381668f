"""The append-only, hash-chained audit log: every state change and every staff read of personal data."""
