"""Telling everyone: each person by every channel that reaches them, once, in their language."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from charter.announcements import Audience, fan_out
from charter.core.crypto import Keyring
from charter.core.i18n import Lang
from charter.outbox import Channel, Outbox, WebhookEndpoints
from tests.retention.estate import estate


def _params(lang: Lang) -> dict[str, object]:
    return {"effective": "2030-01-01", "changes": ["x" if lang is Lang.EN else "甲"]}


def test_everyone_is_reached_once_per_channel_and_a_second_run_queues_nothing(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place, sessions() as session:
        cid = place.controller_id
        recipients = list(Audience(session, keyring).everyone(cid))
        assert sorted(r.channel.value for r in recipients) == ["email"] * 4 + ["in_app"] * 4
        assert {r.language for r in recipients} == {Lang.ZH_CN}
        WebhookEndpoints(session, keyring).set(cid, "sms", "https://sms.example/hook", "s" * 32, actor="t")
        outbox = Outbox(session, keyring)
        outbox.mark_bounced(cid, address="dan@example.com", actor="t")
        first = fan_out(outbox, cid, Audience(session, keyring).everyone(cid), template="policy_change",
                        params=_params, key="change:1", actor="t")
        assert (first.queued, first.suppressed) == ({"email": 3, "in_app": 4, "sms": 2}, 1)
        again = fan_out(outbox, cid, Audience(session, keyring).everyone(cid), template="policy_change",
                        params=_params, key="change:1", actor="t")
        assert (again.queued, again.already) == ({}, 9)
        notices = outbox.notices_for(cid, place.subjects["ann@example.com"])
        assert [n.template for n in notices] == ["policy_change"]
        english = Audience(session, keyring, language_of=lambda _s: Lang.EN)
        assert {r.language for r in english.everyone(cid, in_app=False)} == {Lang.EN}
        assert all(r.channel is not Channel.IN_APP for r in english.everyone(cid, in_app=False))
        session.rollback()
