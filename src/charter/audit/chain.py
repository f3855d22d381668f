"""The pure part of the chain: how an event is hashed and how a sequence of events is verified."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

GENESIS = "sha256:" + "0" * 64


@dataclass(frozen=True)
class ChainLink:
    controller_id: str
    seq: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    data: Mapping[str, object]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def _iso(at: dt.datetime) -> str:
    # SQLite hands datetimes back naive; they were written in UTC.
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")


# What `json.dumps(…, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)` builds on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    controller_id: str, *, seq: int, at: dt.datetime, actor: str, action: str, target: str,
    data: Mapping[str, object], prev_hash: str,
) -> str:
    body = _CANONICAL.encode([controller_id, seq, _iso(at), actor, action, target, data, prev_hash])
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


class Linked(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


L = TypeVar("L", bound=Linked)


def walk_chain(links: Iterable[L], head_seq: int, head_hash: str, rehash: Callable[[L], str], *,
               name: str = "the chain") -> Verification:
    """Walk a hash chain in seq order against its head; report the first event that is edited (its hash, as
    `rehash` recomputes it, differs), missing or out of order, or events removed from the end."""
    prev, expected, count = GENESIS, 1, 0
    for link in links:
        count += 1
        if link.seq != expected:
            return Verification(False, count, expected, f"event {expected} is missing (found {link.seq} next)")
        if link.prev_hash != prev:
            return Verification(False, count, link.seq, f"event {link.seq} does not follow event {link.seq - 1}")
        if rehash(link) != link.hash:
            return Verification(False, count, link.seq, f"event {link.seq} was altered after it was written")
        prev, expected = link.hash, expected + 1
    if expected - 1 != head_seq or prev != (head_hash or GENESIS):
        return Verification(False, count, expected, f"{name} ends at event {expected - 1} but its head records "
                                                   f"event {head_seq}: events were removed")
    return Verification(True, count)


def verify_links(links: Iterable[ChainLink], head_seq: int, head_hash: str) -> Verification:
    """Walk the audit events in seq order; report the first one that is edited, missing or out of order."""
    return walk_chain(links, head_seq, head_hash, lambda link: event_hash(
        link.controller_id, seq=link.seq, at=link.at, actor=link.actor, action=link.action, target=link.target,
        data=link.data, prev_hash=link.prev_hash))
