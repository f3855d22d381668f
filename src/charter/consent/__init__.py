"""The consent ledger: append-only, hash-chained consent events with ISO/IEC TS 27560 fields, the current state
per (subject, purpose) as a projection, receipts, guardian records, and the consent banner's server side."""
