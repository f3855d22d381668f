"""The regulator report, in Chinese and English, as Markdown and PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.i18n import Lang
from charter.incidents import (
    AffectedResolver,
    IncidentNotices,
    IncidentReports,
    Incidents,
    build_report,
    to_markdown,
    to_pdf,
)
from tests.incidents.helpers import CN_ELEMENTS, incident_in
from tests.retention.estate import NOW, estate


def test_the_report_says_what_happened_who_is_affected_the_deadlines_and_the_notices(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        cid = place.controller_id
        with sessions() as session, session.begin():
            incident = Incidents(session).record(cid, incident_in(police_informed=True, police_reference="PSB-9"),
                                                 actor="dpo")
        AffectedResolver(sessions, keyring, place.secrets).resolve(cid, incident.id, actor="dpo")
        with sessions() as session, session.begin():
            notices = IncidentNotices(session, keyring)
            notices.send(cid, notices.draft(cid, incident.id, elements=CN_ELEMENTS, channels=["email"],
                                            actor="dpo").id, actor="dpo")
            Incidents(session).file(cid, incident.id, clock="significant_incident", authority="上海市网信办",
                                    actor="dpo")
        with sessions() as session:
            facts = IncidentReports(session).facts(cid, incident.id, now=NOW)
        english = to_markdown(build_report(facts, Lang.EN))
        chinese = to_markdown(build_report(facts, Lang.ZH_CN))
        assert english.startswith("# Personal information security incident report")
        for expected in (incident.reference, "Visit-log backup exposed", "Security on-call", "yes (PSB-9)",
                         "Email address (contact.email)", "| People affected, found from the data map | 4 (",
                         "significant incident: report to the provincial CAC", "filed in time",
                         CN_ELEMENTS["measures_taken"].en, "| Messages (email) | queued: 4 |",
                         "privacy@acme.example", "incident.recorded", "incident.filed"):
            assert expected in english, expected
        assert "# 个人信息安全事件报告" in chinese and CN_ELEMENTS["cause"].zh in chinese and "已按时报告" in chinese
        assert "ann@example.com" not in english + chinese
        pdf = to_pdf(build_report(facts, Lang.ZH_CN))
        assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf
        assert len(to_pdf(build_report(facts, Lang.EN))) > 2000
        assert facts.generated_at - NOW < dt.timedelta(seconds=1)
