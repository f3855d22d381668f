from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.policy.diff import Change, ChangeKind, Materiality, PolicyDiff, diff_policies
from charter.policy.hashing import content_hash
from charter.policy.schema import ConsentKind, LegalBasis, PolicyVersion
from tests.policy.policies import LANDUPS, LUBPUR, load, minimal, minimal_data, policy_from

Data = dict[str, Any]
FRESH, NOTICE = Materiality.NEEDS_FRESH_CONSENT, Materiality.NOTICE_ONLY
CONSENT_PURPOSES = ("marketing", "payouts")


def _changed(mutate: Callable[[Data], object]) -> PolicyDiff:
    data = minimal_data()
    mutate(data)
    return diff_policies(minimal(), policy_from(data))


def _only(diff: PolicyDiff) -> Change:
    assert len(diff.changes) == 1, diff.changes
    return diff.changes[0]


def _purpose(data: Data, purpose_id: str) -> Data:
    found: Data = next(p for p in data["purposes"] if p["id"] == purpose_id)
    return found


def _new_purpose(purpose_id: str, basis: str, consent: str) -> Data:
    return {
        "id": purpose_id,
        "label": {"zh": "问卷调查", "en": "Surveys"},
        "description": {"zh": "邀请参加问卷", "en": "Invite you to surveys"},
        "legal_basis": basis,
        "is_essential": False,
        "consent": consent,
        "categories": ["contact.email"],
        "retention": {"days": 90, "text": {"zh": "90天", "en": "90 days"}},
    }


def test_a_policy_has_no_changes_from_itself() -> None:
    diff = diff_policies(minimal(), minimal())
    assert diff.changes == ()
    assert not diff.needs_fresh_consent
    assert diff.purposes_needing_consent() == ()


def test_adding_a_purpose_that_relies_on_consent_needs_fresh_consent() -> None:
    change = _only(_changed(lambda d: d["purposes"].append(_new_purpose("surveys", "consent", "general"))))
    assert change.path == "purposes[surveys]"
    assert change.kind is ChangeKind.ADDED
    assert change.materiality is FRESH
    assert change.purposes == ("surveys",)
    assert "PIPL art. 14" in change.rule
    assert change.summary.en == "Added purpose “Surveys”"
    assert change.summary.zh == "新增处理目的“问卷调查”"


def test_adding_a_purpose_on_another_basis_is_notice_only_and_says_so() -> None:
    change = _only(_changed(lambda d: d["purposes"].append(_new_purpose("billing", "contract", "none"))))
    assert change.materiality is NOTICE
    assert change.purposes == ()
    assert "legal basis contract" in change.rule
    assert "notice only" in change.rule
    assert "PIPL art. 13(1)(2)" in change.rule


def test_a_new_category_for_a_consent_purpose_needs_fresh_consent() -> None:
    def mutate(d: Data) -> None:
        _purpose(d, "marketing")["categories"].append("finance.bank_account")
        _purpose(d, "marketing")["consent"] = "separate"

    diff = _changed(mutate)
    category = next(c for c in diff.changes if c.path == "purposes[marketing].categories")
    assert category.kind is ChangeKind.ADDED
    assert category.materiality is FRESH
    assert category.purposes == ("marketing",)
    assert "finance.bank_account" in category.summary.en


def test_a_new_category_for_a_contract_purpose_is_notice_only() -> None:
    change = _only(_changed(lambda d: _purpose(d, "account")["categories"].append("finance.bank_account")))
    assert change.materiality is NOTICE
    assert "legal basis contract" in change.rule


def test_a_removed_category_is_notice_only() -> None:
    def mutate(d: Data) -> None:
        _purpose(d, "marketing")["categories"] = ["contact.email"]
        _purpose(d, "payouts")["categories"] = ["contact.email"]

    diff = _changed(mutate)
    assert [(c.path, c.kind) for c in diff.changes] == [
        ("purposes[payouts].categories", ChangeKind.ADDED),
        ("purposes[payouts].categories", ChangeKind.REMOVED),
    ]
    assert diff.changes[1].materiality is NOTICE


def _recipient(**fields: object) -> Data:
    recipient: Data = {
        "id": "analyst",
        "name": {"zh": "分析公司", "en": "Analysis Co"},
        "role": "partner",
        "contact": "a@analyst.example",
        "method": {"zh": "统计分析", "en": "Statistics"},
        "purposes": ["marketing"],
        "categories": ["contact.email"],
        "region": "CN",
        "agreement_on_file": True,
    }
    return recipient | fields


def test_a_new_recipient_needs_fresh_consent_for_its_purposes() -> None:
    change = _only(_changed(lambda d: d["recipients"].append(_recipient())))
    assert change.path == "recipients[analyst]"
    assert change.materiality is FRESH
    assert change.purposes == ("marketing",)
    assert "PIPL art. 23" in change.rule


def test_a_recipient_gaining_a_category_or_purpose_needs_fresh_consent() -> None:
    def mutate(d: Data) -> None:
        d["recipients"][0]["categories"].append("finance.bank_account")
        d["recipients"][0]["purposes"].append("payouts")

    diff = _changed(mutate)
    assert {c.path for c in diff.changes} == {"recipients[mailer].categories", "recipients[mailer].purposes"}
    assert all(c.materiality is FRESH and c.purposes == ("marketing", "payouts") for c in diff.changes)


def test_a_recipient_losing_a_category_is_notice_only() -> None:
    def mutate(d: Data) -> None:
        d["recipients"][0]["categories"] = ["finance.bank_account"]

    diff = _changed(mutate)
    removed = next(c for c in diff.changes if c.kind is ChangeKind.REMOVED)
    assert removed.materiality is NOTICE


def test_a_recipient_moving_outside_the_storage_regions_is_a_cross_border_change() -> None:
    change = _only(_changed(lambda d: d["recipients"][0].update(region="SG")))
    assert change.path == "recipients[mailer].region"
    assert change.materiality is FRESH
    assert change.purposes == ("marketing",)
    assert "cross-border" in change.rule
    assert "(CN → SG)" in change.summary.en


def test_a_recipient_moving_between_storage_regions_is_notice_only() -> None:
    def mutate(d: Data) -> None:
        d["storage_regions"] = ["CN", "HK"]

    base = policy_from(_with(mutate))
    moved = policy_from(_with(mutate, lambda d: d["recipients"][0].update(region="HK")))
    assert _only(diff_policies(base, moved)).materiality is NOTICE


def _with(*mutations: Callable[[Data], object]) -> Data:
    data = minimal_data()
    for mutate in mutations:
        mutate(data)
    return data


def test_a_new_storage_region_needs_fresh_consent_for_every_consent_purpose() -> None:
    change = _only(_changed(lambda d: d["storage_regions"].append("HK")))
    assert change.path == "storage_regions"
    assert change.materiality is FRESH
    assert change.purposes == CONSENT_PURPOSES
    assert change.summary.en == "policy: added storage region HK"


def test_a_removed_right_is_a_reduced_right() -> None:
    change = _only(_changed(lambda d: d["rights"].pop()))
    assert change.path == "rights[erasure]"
    assert change.kind is ChangeKind.REMOVED
    assert change.materiality is FRESH
    assert change.purposes == CONSENT_PURPOSES
    assert "LUB-CHANGE" in change.rule
    assert change.summary.zh == "移除删除权"


def test_a_removed_channel_is_a_reduced_right_and_an_added_one_is_not() -> None:
    removed = _only(_changed(lambda d: d["rights"][0].update(channels=["email"])))
    assert removed.path == "rights[access].channels"
    assert removed.materiality is FRESH
    added = _only(_changed(lambda d: d["rights"][1]["channels"].append("post")))
    assert added.materiality is NOTICE


def test_an_added_right_is_notice_only() -> None:
    change = _only(_changed(lambda d: d["rights"].append({"right": "copy", "channels": ["email"]})))
    assert change.materiality is NOTICE


@pytest.mark.parametrize(
    ("purpose", "old", "new", "materiality"),
    [
        ("payouts", "separate", "written", FRESH),
        ("marketing", "general", "separate", FRESH),
        ("account", "none", "general", NOTICE),
    ],
)
def test_consent_kind_changes(purpose: str, old: str, new: str, materiality: Materiality) -> None:
    change = _only(_changed(lambda d: _purpose(d, purpose).update(consent=new)))
    assert change.path == f"purposes[{purpose}].consent"
    assert change.materiality is materiality
    assert f"({old} → {new})" in change.summary.en


def test_weakening_consent_needs_fresh_consent() -> None:
    data = _with(lambda d: _purpose(d, "payouts").update(consent="general", categories=["contact.email"]))
    diff = diff_policies(minimal(), policy_from(data))
    weakened = next(c for c in diff.changes if c.path == "purposes[payouts].consent")
    assert weakened.materiality is FRESH
    assert weakened.purposes == ("payouts",)
    assert "weakened" in weakened.rule


@pytest.mark.parametrize(
    ("retention", "materiality"),
    [
        ({"days": 730}, FRESH),
        ({"days": None, "while": "account_active"}, FRESH),
        ({"days": 30}, NOTICE),
        ({"text": {"zh": "十二个月", "en": "Twelve months"}}, NOTICE),
    ],
)
def test_retention_lengthened_needs_fresh_consent(retention: Data, materiality: Materiality) -> None:
    change = _only(_changed(lambda d: _purpose(d, "marketing")["retention"].update(retention)))
    assert change.path == "purposes[marketing].retention"
    assert change.materiality is materiality


def test_retention_lengthened_on_a_contract_purpose_is_notice_only() -> None:
    change = _only(_changed(lambda d: _purpose(d, "account")["retention"].update(after_days=365)))
    assert change.materiality is NOTICE
    assert "legal basis contract" in change.rule


@pytest.mark.parametrize(
    ("purpose", "basis", "materiality"),
    [("account", "consent", FRESH), ("marketing", "contract", FRESH), ("account", "legal_duty", NOTICE)],
)
def test_legal_basis_switched_to_or_from_consent(purpose: str, basis: str, materiality: Materiality) -> None:
    diff = _changed(lambda d: _purpose(d, purpose).update(legal_basis=basis))
    change = next(c for c in diff.changes if c.path == f"purposes[{purpose}].legal_basis")
    assert change.materiality is materiality


def test_making_a_purpose_public_needs_fresh_consent() -> None:
    change = _only(_changed(lambda d: _purpose(d, "payouts").update(is_public_disclosure=True)))
    assert change.materiality is FRESH
    assert "PIPL arts. 14, 25" in change.rule


def test_refusal_grounds_added_reduce_rights_and_removed_do_not() -> None:
    added = _only(_changed(lambda d: d["refusal_grounds"].append("trade_secret")))
    assert added.materiality is FRESH
    removed = _only(_changed(lambda d: d["refusal_grounds"].clear()))
    assert removed.materiality is NOTICE


NOTICE_ONLY_EDITS: dict[str, tuple[Callable[[Data], object], str]] = {
    "purpose label": (
        lambda d: _purpose(d, "marketing").update(label={"zh": "新闻", "en": "News"}),
        "purposes[marketing].label",
    ),
    "purpose removed": (lambda d: d["purposes"].pop(), "purposes[payouts]"),
    "category added": (
        lambda d: d["categories"].append({"id": "geo.city", "label": {"zh": "城市", "en": "City"}}),
        "categories[geo.city]",
    ),
    "category becomes sensitive": (
        lambda d: d["categories"][0].update(is_sensitive=True),
        "categories[contact.email].is_sensitive",
    ),
    "recipient removed": (lambda d: d["recipients"].clear(), "recipients[mailer]"),
    "recipient contact": (
        lambda d: d["recipients"][0].update(contact="new@mailer.example"),
        "recipients[mailer].contact",
    ),
    "effective date": (lambda d: d.update(effective=dt.date(2025, 1, 1)), "effective"),
    "version": (lambda d: d.update(version="2.0"), "version"),
    "language added": (lambda d: d["languages"].append("zh-TW"), "languages"),
    "jurisdiction added": (lambda d: d["jurisdictions"].append("EU"), "jurisdictions"),
    "cross-border basis": (lambda d: d["cross_border"]["bases"].append("standard_contract"), "cross_border.bases"),
    "minors threshold": (lambda d: d["minors"].update(age_threshold=16), "minors.age_threshold"),
    "contact value": (
        lambda d: d["controller"]["contacts"][0].update(value="dpo@acme.example"),
        "controller.contacts[complaints:privacy@acme.example]",
    ),
    "contact label": (
        lambda d: d["controller"]["contacts"][0].update(label={"zh": "投诉", "en": "Complaints desk"}),
        "controller.contacts[complaints:privacy@acme.example].label",
    ),
    "controller website": (lambda d: d["controller"].update(website="https://acme.example/cn"), "controller.website"),
    "clause body": (lambda d: d["clauses"][0]["body"].update(en="We collect your email."), "clauses[1].body"),
    "clause promises": (lambda d: d["clauses"][1].update(promises=["LUB-CONTACT"]), "clauses[2].promises"),
    "clause order": (lambda d: d["clauses"].reverse(), "clauses"),
    "legal exception": (
        lambda d: d.setdefault("legal_exceptions", []).append(
            {"id": "news", "label": {"zh": "新闻", "en": "News"}, "basis": "news"}
        ),
        "legal_exceptions[news]",
    ),
    "right text": (
        lambda d: d["rights"][0].update(text={"zh": "在个人中心查阅", "en": "In your account"}),
        "rights[access].text",
    ),
    "retention while": (
        lambda d: _purpose(d, "payouts")["retention"].update(text={"zh": "付款期间", "en": "While we pay you"}),
        "purposes[payouts].retention",
    ),
    "cookie category": (
        lambda d: _purpose(d, "marketing").update(cookie_category="marketing"),
        "purposes[marketing].cookie_category",
    ),
}


@pytest.mark.parametrize("case", NOTICE_ONLY_EDITS.values(), ids=NOTICE_ONLY_EDITS.keys())
def test_everything_else_is_notice_only(case: tuple[Callable[[Data], object], str]) -> None:
    mutate, path = case
    diff = _changed(mutate)
    assert path in [c.path for c in diff.changes], diff.changes
    assert not diff.needs_fresh_consent, diff.changes
    assert all(c.summary.zh and c.summary.en and "notice only" in c.rule for c in diff.changes)


def test_purposes_needing_consent_are_listed_once_in_order() -> None:
    def mutate(d: Data) -> None:
        d["purposes"].append(_new_purpose("surveys", "consent", "general"))
        d["recipients"].append(_recipient(purposes=["surveys", "marketing"]))

    diff = _changed(mutate)
    assert diff.needs_fresh_consent
    assert diff.purposes_needing_consent() == ("surveys", "marketing")
    assert (diff.old_version, diff.new_version) == ("1.0", "1.0")


def test_the_reference_policies_differ_in_every_section() -> None:
    lubpur = load(LUBPUR.read_text(encoding="utf-8")).policy
    landups = load(LANDUPS.read_text(encoding="utf-8")).policy
    diff = diff_policies(lubpur, landups)
    sections = {c.path.split("[")[0].split(".")[0] for c in diff.changes}
    assert {"controller", "purposes", "recipients", "rights", "clauses", "storage_regions"} <= sections
    assert diff.needs_fresh_consent


# --- properties --------------------------------------------------------------------------------------------

Mutation = Callable[[Data], None]


def _set_consent(purpose: str, kind: ConsentKind) -> Mutation:
    return lambda d: _purpose(d, purpose).update(consent=kind.value)


def _set_basis(purpose: str, basis: LegalBasis) -> Mutation:
    return lambda d: _purpose(d, purpose).update(legal_basis=basis.value)


def _set_days(days: int) -> Mutation:
    return lambda d: _purpose(d, "marketing")["retention"].update(days=days)


def _set_text(text: str) -> Mutation:
    return lambda d: d["clauses"][0]["body"].update(en=text)


def _append(key: str, value: object) -> Mutation:
    return lambda d: d[key].append(copy.deepcopy(value))


def _region(region: str) -> Mutation:
    return lambda d: d["recipients"][0].update(region=region)


_PURPOSE_IDS = st.sampled_from(["account", "marketing", "payouts"])
_FIXED: list[Mutation] = [
    _append("purposes", _new_purpose("surveys", "consent", "general")),
    _append("purposes", _new_purpose("billing", "contract", "none")),
    _append("recipients", _recipient()),
    _append("storage_regions", "HK"),
    _append("refusal_grounds", "trade_secret"),
    lambda d: d.update(rights=d["rights"][:1]),
    lambda d: d["rights"][0].update(channels=["email"]),
    lambda d: d["purposes"].reverse(),
    lambda d: d.update(clauses=d["clauses"][:1]),
    lambda d: _purpose(d, "marketing")["categories"].append("finance.bank_account"),
    lambda d: d["categories"][0].update(is_sensitive=True),
    lambda d: d.update(effective=dt.date(2030, 5, 1)),
]
MUTATIONS = st.one_of(
    st.sampled_from(_FIXED),
    st.builds(_set_consent, _PURPOSE_IDS, st.sampled_from(ConsentKind)),
    st.builds(_set_basis, _PURPOSE_IDS, st.sampled_from(LegalBasis)),
    st.builds(_set_days, st.integers(min_value=1, max_value=5000)),
    st.builds(_set_text, st.text(min_size=1, max_size=30).filter(str.strip)),
    st.builds(_region, st.sampled_from(["CN", "HK", "SG", "US"])),
)


@st.composite
def policies(draw: st.DrawFn) -> PolicyVersion:
    data = minimal_data()
    for mutate in draw(st.lists(MUTATIONS, max_size=5)):
        mutate(data)
    return policy_from(data)


@settings(max_examples=150, deadline=None)
@given(policies())
def test_any_policy_has_no_changes_from_itself(policy: PolicyVersion) -> None:
    assert diff_policies(policy, policy).changes == ()
    twin = PolicyVersion.model_validate(policy.model_dump(mode="json", by_alias=True))
    assert diff_policies(policy, twin).changes == ()


@settings(max_examples=150, deadline=None)
@given(policies(), policies())
def test_materiality_is_deterministic_and_explained(old: PolicyVersion, new: PolicyVersion) -> None:
    first, second = diff_policies(old, new), diff_policies(old, new)
    assert first == second
    assert [c.materiality for c in first.changes] == [c.materiality for c in second.changes]
    for change in first.changes:
        assert change.summary.zh.strip() and change.summary.en.strip() and change.rule
        if change.materiality is NOTICE:
            assert change.purposes == ()
    assert first.needs_fresh_consent == any(c.materiality is FRESH for c in first.changes)


@settings(max_examples=150, deadline=None)
@given(policies(), policies())
def test_every_difference_in_content_is_listed(old: PolicyVersion, new: PolicyVersion) -> None:
    assert (content_hash(old) != content_hash(new)) == bool(diff_policies(old, new).changes)
