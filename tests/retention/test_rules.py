"""What a sweep does to each collection: a pure function of the map, the holds and the moment."""

from __future__ import annotations

import datetime as dt

from charter.datamap.loader import load_datamap_text
from charter.datamap.schema import DataMap
from charter.retention import HoldScope, TargetStatus, cutoff, shutdown_targets, sweep_targets
from tests.datamap.maps import shop
from tests.retention.estate import datamap_text

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=10)


def estate_map() -> DataMap:
    return load_datamap_text(datamap_text("acme", "postgresql", "DB", redis_secret="R"), "m.yaml").document


def test_days_count_from_collection_and_while_rules_from_the_end() -> None:
    dm = estate_map()
    rules = {r.id: r for r in dm.retention_rules}
    assert cutoff(rules["visit_logs"], NOW) == NOW - dt.timedelta(days=180)
    assert cutoff(rules["account_lifetime"], NOW) == NOW - dt.timedelta(days=30)
    targets = {t.key: t for t in sweep_targets(dm, [], NOW)}
    assert (targets["logs_db.visits"].field, targets["logs_db.visits"].cutoff) == ("created_at",
                                                                                   NOW - dt.timedelta(days=180))
    assert targets["accounts_db.accounts"].field == "closed_at"
    assert targets["cache.sessions"].field == "seen_at"
    assert all(t.status is TargetStatus.SWEEP for t in targets.values())


def test_children_come_before_the_collections_they_point_at() -> None:
    keys = [t.key for t in sweep_targets(estate_map(), [], NOW)]
    assert keys.index("logs_db.visits") < keys.index("accounts_db.accounts")
    assert keys.index("cache.sessions") < keys.index("accounts_db.accounts")


def test_holds_keep_a_collection_or_some_people_and_lapse_when_they_end() -> None:
    holds = [HoldScope("h1", "accounts_db", None, None, LATER), HoldScope("h2", "logs_db", "visits", "s1", LATER),
             HoldScope("old", "cache", None, None, NOW - dt.timedelta(seconds=1))]
    targets = {t.key: t for t in sweep_targets(estate_map(), holds, NOW)}
    assert (targets["accounts_db.accounts"].status, targets["accounts_db.accounts"].holds) == (TargetStatus.HELD,
                                                                                             ("h1",))
    visits = targets["logs_db.visits"]
    assert (visits.status, visits.holds, [h.id for h in visits.subject_holds]) == (TargetStatus.SWEEP, ("h2",), ["h2"])
    assert targets["cache.sessions"].status is TargetStatus.SWEEP


def test_a_map_without_moments_is_reported_not_guessed() -> None:
    targets = {t.key: t for t in sweep_targets(shop(), [], NOW)}
    assert targets["shop_db.customers"].status is TargetStatus.NO_FIELD
    assert targets["archive.contracts"].status is TargetStatus.MANUAL
    assert targets["helpdesk.tickets"].status is TargetStatus.NO_FIELD


def test_a_shutdown_takes_every_row_of_every_collection_but_holds_still_count() -> None:
    targets = {t.key: t for t in shutdown_targets(estate_map(), [HoldScope("h", "cache", None, None, LATER)], NOW)}
    assert targets["logs_db.visits"].field is None
    assert targets["logs_db.visits"].expiry().field is None
    assert targets["cache.sessions"].status is TargetStatus.HELD
    assert targets["accounts_db.accounts"].status is TargetStatus.SWEEP
