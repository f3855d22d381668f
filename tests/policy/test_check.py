from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from charter.policy.catalogue import promises_of
from charter.policy.check import check_file, check_policy
from charter.policy.loader import Problem
from tests.policy.policies import LANDUPS, LUBPUR, MINIMAL, edit, line_of, load, minimal_text


@dataclass(frozen=True)
class Broken:
    """One way to break the minimal policy, and the problem `charter policy check` must report for it."""

    edits: tuple[tuple[str, str], ...]
    path: str
    line_needle: str
    fix: str
    occurrence: int = 1
    count: int | None = 1


BROKEN = {
    "unknown category ref": Broken(
        (("categories: [finance.bank_account]", "categories: [finance.bank]"),),
        "purposes[2].categories[0]",
        "categories: [finance.bank]",
        "did you mean `finance.bank_account`?",
    ),
    "unknown purpose ref on a recipient": Broken(
        (("    purposes: [marketing]", "    purposes: [marketting]"),),
        "recipients[0].purposes[0]",
        "purposes: [marketting]",
        "use an id declared under `purposes:`",
    ),
    "duplicate purpose id": Broken(
        (("  - id: payouts", "  - id: marketing"),),
        "purposes[2].id",
        "- id: marketing",
        "give every entry of `purposes` its own id",
        occurrence=2,
        count=None,
    ),
    "purpose named after the whole policy": Broken(
        (("  - id: payouts", "  - id: policy"),),
        "purposes[2].id",
        "- id: policy",
        "name the purpose after what it does",
    ),
    "duplicate clause id": Broken(
        (('  - id: "2"', '  - id: "1"'),),
        "clauses[1].id",
        '- id: "1"',
        "its own id",
        occurrence=2,
    ),
    "duplicate YAML key": Broken(
        (("    legal_basis: contract\n", "    legal_basis: contract\n    legal_basis: consent\n"),),
        "purposes[0].legal_basis",
        "legal_basis: consent",
        "keep one `legal_basis:`",
    ),
    "recipient without contact": Broken(
        (("    contact: dpo@mailer.example\n", ""),),
        "recipients[0].contact",
        "- id: mailer",
        "add `contact:` under `recipients[0]`",
    ),
    "recipient without method": Broken(
        (("    method: {zh: 代为发送邮件, en: Sends email on our behalf}\n", ""),),
        "recipients[0].method",
        "- id: mailer",
        "PIPL art. 23",
    ),
    "recipient without agreement": Broken(
        (("agreement_on_file: true", "agreement_on_file: false"),),
        "recipients[0].agreement_on_file",
        "agreement_on_file: false",
        "set `agreement_on_file: true`",
    ),
    "sensitive category under general consent": Broken(
        (
            (
                "    consent: separate\n    categories: [finance.bank_account]",
                "    consent: general\n    categories: [finance.bank_account]",
            ),
        ),
        "purposes[2].consent",
        "consent: general",
        "set `consent: separate`",
        occurrence=2,
    ),
    "consent basis with consent none": Broken(
        (("    is_essential: false\n    consent: general", "    is_essential: false\n    consent: none"),),
        "purposes[1].consent",
        "consent: none",
        "`legal_basis:`",
        occurrence=2,
    ),
    "public disclosure without separate consent": Broken(
        (("    consent: general\n", "    consent: general\n    is_public_disclosure: true\n"),),
        "purposes[1].consent",
        "consent: general",
        "PIPL art. 25",
    ),
    "region outside storage without cross-border basis": Broken(
        (("    region: CN", "    region: SG"), ("cross_border:\n  bases: [legal_requirement, explicit_consent]\n", "")),
        "recipients[0].region",
        "region: SG",
        "add the bases for the transfer under `cross_border: bases:` including `explicit_consent`",
    ),
    "CN data leaving the mainland without explicit consent": Broken(
        (("    region: CN", "    region: HK"), ("[legal_requirement, explicit_consent]", "[standard_contract]")),
        "recipients[0].region",
        "region: HK",
        "add `explicit_consent` to `cross_border: bases:`",
    ),
    "second storage region outside the mainland without explicit consent": Broken(
        (
            ("storage_regions: [CN]", "storage_regions: [CN, SG]"),
            ("[legal_requirement, explicit_consent]", "[certification]"),
        ),
        "storage_regions[1]",
        "storage_regions: [CN, SG]",
        "PIPL art. 39",
    ),
    "missing en translation": Broken(
        (("label: {zh: 银行账户, en: Bank account}", "label: {zh: 银行账户}"),),
        "categories[1].label.en",
        "label: {zh: 银行账户}",
        "add `en:` under `categories[1].label`",
    ),
    "HK policy without Traditional Chinese": Broken(
        (
            ("jurisdictions: [CN]", "jurisdictions: [HK]"),
            ("refusal_grounds: [national_security]", "refusal_grounds: [identity_not_verified]"),
        ),
        "clauses[1].title.zh_tw",
        "title: {zh: 联系我们, en: Contact us}",
        "add `zh_tw:` with the Traditional Chinese text under `clauses[1].title`",
        count=None,
    ),
    "unknown promise id": Broken(
        (('  - id: "2"\n', '  - id: "2"\n    promises: [LAN-CONTACTS]\n'),),
        "clauses[1].promises[0]",
        "promises: [LAN-CONTACTS]",
        "use an id listed in PROMISES.md",
        count=None,
    ),
    "unknown refusal ground": Broken(
        (("refusal_grounds: [national_security]", "refusal_grounds: [national_securty]"),),
        "refusal_grounds[0]",
        "refusal_grounds:",
        "did you mean `national_security`?",
    ),
    "refusal ground of another jurisdiction": Broken(
        (("refusal_grounds: [national_security]", "refusal_grounds: [national_security, identity_not_verified]"),),
        "refusal_grounds[1]",
        "refusal_grounds:",
        "use one of ",
    ),
    "wrong enum value": Broken(
        (("role: processor", "role: procesor"),),
        "recipients[0].role",
        "role: procesor",
        "did you mean `processor`?",
    ),
    "bad category id format": Broken(
        (("  - id: finance.bank_account", "  - id: finance.Bank-Account"),),
        "categories[1].id",
        "- id: finance.Bank-Account",
        "lowercase words joined by dots",
    ),
    "unknown field": Broken(
        (("    is_sensitive: true\n", "    is_sensitive: true\n    sensitive_since: 2020\n"),),
        "categories[1].sensitive_since",
        "sensitive_since",
        "remove it or check the spelling; allowed fields are id, label, is_sensitive, sensitivity_basis",
    ),
    "missing required field": Broken(
        (("    is_essential: false\n    consent: separate\n", "    consent: separate\n"),),
        "purposes[2].is_essential",
        "- id: payouts",
        "add `is_essential:` under `purposes[2]`",
    ),
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_policy_is_reported_at_its_path_and_line_with_a_fix(case: Broken, tmp_path: Path) -> None:
    text = edit(minimal_text(), *case.edits)
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    problems = check_file(path)
    matching = [p for p in problems if p.path == case.path]
    assert matching, [str(p) for p in problems]
    problem = matching[0]
    assert problem.file == str(path)
    assert problem.line == line_of(text, case.line_needle, case.occurrence)
    assert case.fix in problem.fix
    assert case.count is None or len(problems) == case.count, [str(p) for p in problems]


def test_the_minimal_fixture_passes() -> None:
    assert check_file(MINIMAL) == []


def test_an_authority_needs_no_agreement() -> None:
    text = edit(
        minimal_text(), ("role: processor", "role: authority"), ("agreement_on_file: true", "agreement_on_file: false")
    )
    assert check_policy(load(text)) == []


def test_a_sensitive_category_is_fine_on_a_purpose_that_does_not_rest_on_consent() -> None:
    text = edit(
        minimal_text(),
        (
            "    legal_basis: consent\n    is_essential: false\n    consent: separate",
            "    legal_basis: contract\n    is_essential: false\n    consent: none",
        ),
    )
    assert check_policy(load(text)) == []


def test_a_recipient_in_a_storage_region_needs_no_basis() -> None:
    text = edit(
        minimal_text(),
        ("storage_regions: [CN]", "storage_regions: [HK]"),
        ("jurisdictions: [CN]", "jurisdictions: [EU]"),
        ("refusal_grounds: [national_security]", "refusal_grounds: []"),
        ("    region: CN", "    region: HK"),
        ("cross_border:\n  bases: [legal_requirement, explicit_consent]\n", ""),
    )
    assert check_policy(load(text)) == []


def test_every_promise_of_the_family_must_be_placed() -> None:
    text = edit(minimal_text(), ('  - id: "2"\n', '  - id: "2"\n    promises: [LUB-CONTACT]\n'))
    problems = check_policy(load(text))
    missing = {p.message.split("`")[1] for p in problems}
    assert missing == {p.id for p in promises_of("LUB")} - {"LUB-CONTACT"}
    assert all(p.path == "clauses" and p.line == line_of(text, "clauses:") for p in problems)
    delete = next(p for p in problems if "LUB-DELETE" in p.message)
    assert "add `LUB-DELETE` to the `promises:` of the clause that makes it" in delete.fix


def test_check_file_returns_load_problems_instead_of_raising(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("schema: [unclosed\n", encoding="utf-8")
    problems = check_file(path)
    assert len(problems) == 1
    assert isinstance(problems[0], Problem)
    assert check_file(tmp_path / "absent.yaml")[0].message == "no such file"


def test_problems_are_in_line_order() -> None:
    text = edit(
        minimal_text(),
        ("refusal_grounds: [national_security]", "refusal_grounds: [nope]"),
        ("categories: [finance.bank_account]", "categories: [nope]"),
        ("agreement_on_file: true", "agreement_on_file: false"),
    )
    lines = [p.line or 0 for p in check_policy(load(text))]
    assert len(lines) == 3
    assert lines == sorted(lines)


@pytest.mark.parametrize("path", [LUBPUR, LANDUPS], ids=["lubpur", "landups"])
def test_the_example_policies_pass(path: Path) -> None:
    assert [str(p) for p in check_file(path)] == []
