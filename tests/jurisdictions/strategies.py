"""Hypothesis strategies shared by the jurisdiction tests."""

from datetime import date

from hypothesis import strategies as st

from charter.jurisdictions import RequestKind

# Spans published calendar years (from 2004) and years the calendar cannot know yet.
received_dates = st.dates(min_value=date(2004, 1, 1), max_value=date(2040, 12, 31))
unpublished_dates = st.dates(min_value=date(2031, 1, 1), max_value=date(2040, 12, 31))
kinds = st.sampled_from(list(RequestKind))
