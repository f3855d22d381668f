"""Decisions: may this person's data be used, shared, transferred or published? A pure core over a compiled
policy and the subject's state, an in-process decider with a cache refreshed when consents or policies change,
and batched logging of decisions that allow non-essential processing."""
