"""The pure decision core, without a database: the example policies compiled, subjects as plain state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from charter.consent.terms import policy_terms
from charter.core.errors import CharterError
from charter.decisions.core import (
    CompiledPolicy,
    ConsentView,
    Question,
    SubjectState,
    compile_policy,
    decide,
    expires,
)
from charter.policy.hashing import content_hash
from charter.policy.schema import PolicyVersion

EXAMPLES = Path(__file__).parents[2] / "examples"
NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC).timestamp()


def compiled(which: str = "lubpur", edit: Any = None) -> CompiledPolicy:
    doc = yaml.safe_load((EXAMPLES / which / "policy.yaml").read_text(encoding="utf-8"))
    if edit is not None:
        edit(doc)
    policy = PolicyVersion.model_validate(doc)
    return compile_policy(which, policy_terms([(policy, content_hash(policy))], dt.date(2025, 6, 1)))


def granted(kind: str = "general", **extra: Any) -> ConsentView:
    values: dict[str, Any] = {"status": "granted", "kind": kind, "ordinal": 0, "valid_until": None,
                              "record_id": "r1", "by_guardian": False, **extra}
    return ConsentView(**values)


LUBPUR = compiled()
LANDUPS = compiled("landups")


@pytest.mark.parametrize("policy", [LUBPUR, LANDUPS], ids=["lubpur", "landups"])
def test_no_optional_purpose_can_refuse_an_essential_one(policy: CompiledPolicy) -> None:
    """PIPL art. 16, for every essential purpose of both policies and any mix of refusals."""
    optional = [p for p, r in policy.purposes.items() if not r.is_essential]
    for status in ("refused", "withdrawn", "expired", "superseded"):
        state = SubjectState("s", {p: granted()._replace(status=status) for p in optional})
        for purpose, rule in policy.purposes.items():
            if rule.is_essential and rule.basis.value != "consent":
                assert decide(policy, state, Question(purpose), NOW).allowed, (purpose, status)


def test_an_incomplete_or_unsigned_recipient_cannot_receive() -> None:
    def strip(doc: dict[str, Any]) -> None:
        partner = next(r for r in doc["recipients"] if r["id"] == "example-ad-analytics-partner")
        partner.pop("contact")
        partner["agreement_on_file"] = False

    policy = compiled(edit=strip)
    state = SubjectState("s", {"share_partners": granted("separate")})
    answer = decide(policy, state, Question("share_partners", "share", recipient="example-ad-analytics-partner"), NOW)
    assert answer.reasons == ("recipient_record_incomplete", "recipient_no_agreement")


def test_processors_take_the_purposes_own_consent_others_need_separate() -> None:
    """PIPL art. 21 (entrusted processing) against art. 23 (providing to another handler)."""
    def general_sharing(doc: dict[str, Any]) -> None:
        next(p for p in doc["purposes"] if p["id"] == "share_partners")["consent"] = "general"

    policy = compiled(edit=general_sharing)
    state = SubjectState("s", {"share_partners": granted("general")})
    supplier = decide(policy, state, Question("share_partners", "share", recipient="example-supplier"), NOW)
    assert (supplier.allowed, supplier.reasons) == (True, ("entrusted_processing", "within_storage_region", "consent"))
    partner = Question("share_partners", "share", recipient="example-ad-analytics-partner")
    assert decide(policy, state, partner, NOW).reasons == ("separate_consent_required",)


def test_consent_under_an_old_version_or_past_its_validity_does_not_count() -> None:
    policy = LUBPUR
    old = SubjectState("s", {"analytics": granted(ordinal=-1)})
    assert decide(policy, old, Question("analytics"), NOW).reasons == ("needs_reconsent",)
    short = SubjectState("s", {"analytics": granted(valid_until=NOW + 60)})
    assert decide(policy, short, Question("analytics"), NOW).allowed
    answer = decide(policy, short, Question("analytics"), NOW + 61)
    assert (answer.allowed, answer.reasons, answer.ask_consent) == (False, ("consent_expired",), True)
    assert expires(policy, short, Question("analytics")) == NOW + 60


def test_a_minor_comes_of_age_and_the_answer_changes_that_day() -> None:
    policy = LUBPUR
    state = SubjectState("s", {}, minor_until=dt.date(2025, 6, 2))
    assert decide(policy, state, Question("service"), NOW).reasons == ("guardian_consent_required",)
    tomorrow = dt.datetime(2025, 6, 2, tzinfo=dt.UTC).timestamp()
    assert expires(policy, state, Question("service")) == tomorrow
    assert decide(policy, state, Question("service"), tomorrow).allowed


def test_questions_naming_unknown_things_are_refused_with_the_field() -> None:
    state = SubjectState("s")
    cases = [(Question("analytcs"), "purpose"), (Question("analytics", "sell"), "kind"),
             (Question("analytics", category="nope"), "category"),
             (Question("analytics", "share", recipient="nope"), "recipient"),
             (Question("analytics", "transfer"), "region"), (Question("analytics", "sensitive"), "category"),
             (Question("analytics", exception="nope"), "exception")]
    for question, field in cases:
        with pytest.raises(CharterError) as err:
            decide(LUBPUR, state, question, NOW)
        assert err.value.field == field, question
    with pytest.raises(CharterError) as err:
        decide(LUBPUR, state, Question("analytcs"), NOW)
    assert "analytics" in err.value.fix


def test_only_allowed_non_essential_or_exception_decisions_are_logged() -> None:
    state = SubjectState("s", {"analytics": granted()})
    assert decide(LUBPUR, state, Question("analytics"), NOW).is_logged
    assert not decide(LUBPUR, state, Question("service"), NOW).is_logged
    assert not decide(LUBPUR, state, Question("personalisation"), NOW).is_logged
    assert decide(LUBPUR, state, Question("service", exception="criminal-justice"), NOW).is_logged


def test_only_a_transfer_the_law_requires_rests_on_the_law_any_other_needs_an_art_38_mechanism() -> None:
    def assessed(*bases: str) -> Any:
        def edit(doc: dict[str, Any]) -> None:
            doc["cross_border"] = {"bases": list(bases), "impact_assessment_on_file": True}
        return edit

    state = SubjectState("s", {"cross_border": granted("separate")})
    by_law_only = compiled(edit=assessed("legal_requirement", "explicit_consent"))
    required = decide(by_law_only, state, Question("legal_disclosure", "transfer", region="US"), NOW)
    assert (required.allowed, required.basis) == (True, "legal_duty")  # no consent asked: the law provides for it
    consented = decide(by_law_only, state, Question("cross_border", "transfer", region="US"), NOW)
    assert (consented.allowed, consented.reasons) == (False, ("cross_border_no_mechanism",))
    contract = compiled(edit=assessed("explicit_consent", "standard_contract"))
    assert decide(contract, state, Question("cross_border", "transfer", region="US"), NOW).allowed
