"""The local privacy gateway: deny by default, and what it keeps for Charter."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lubpur.policy import load_policy
from lubpur.privacy import Evidence, LocalPrivacy, Subject
from lubpur.settings import POLICY_FILE, Settings
from tests.examples.lubpur.factories import unique_email

EVIDENCE = Evidence(method="test", ip="127.0.0.1", user_agent="pytest")


def _privacy(db: Session) -> LocalPrivacy:
    return LocalPrivacy(db, Settings(), load_policy(POLICY_FILE))


def test_non_essential_purposes_are_denied_until_the_person_says_yes(db: Session) -> None:
    privacy = _privacy(db)
    subject = Subject(email=unique_email())
    for purpose in ("personalisation", "marketing_email", "email_tracking", "analytics", "share_partners"):
        decision = privacy.decide(subject, purpose)
        assert not decision.is_allowed and decision.reasons == ("no_consent",) and decision.source == "local"
    privacy.record_choice(subject, "marketing_email", is_granted=True, evidence=EVIDENCE)
    decision = privacy.decide(subject, "marketing_email")
    assert decision.is_allowed and {"subject_prefix_ad", "unsubscribe_link"} <= decision.obligations
    privacy.record_choice(subject, "marketing_email", is_granted=False, evidence=EVIDENCE)
    assert privacy.decide(subject, "marketing_email").reasons == ("consent_withdrawn",)
    db.rollback()


def test_essential_purposes_rest_on_contract_or_law_and_unknown_ones_are_refused(db: Session) -> None:
    privacy = _privacy(db)
    subject = Subject(email=unique_email())
    assert privacy.decide(subject, "service").is_allowed
    assert privacy.decide(subject, "security").is_allowed
    assert privacy.decide(subject, "selling_data").reasons == ("undeclared_purpose",)
    assert privacy.privacy_centre_link(subject, "zh-CN") is None
    assert privacy.banner_tag("zh-CN") is None
