import pytest

from charter.jurisdictions import (
    IncidentClock,
    Jurisdiction,
    incident_clocks,
    required_notice_elements,
    rule_pack,
)

CN_ELEMENTS = [
    "categories",
    "cause",
    "possible_harm",
    "measures_taken",
    "what_individuals_can_do",
    "remedies",
    "contact",
]


def test_cn_breach_notice_follows_pipl_57_and_gbt_10() -> None:
    elements = required_notice_elements([Jurisdiction.CN])
    assert [e.code for e in elements] == CN_ELEMENTS
    by_code = {e.code: e.citation for e in elements}
    assert by_code["cause"] == "PIPL art. 57(1)"
    assert "GB/T 35273-2020 §10.2" in by_code["remedies"]
    assert "PIPL art. 57(3)" in by_code["contact"]


def test_eu_breach_notice_follows_art_34() -> None:
    elements = required_notice_elements(["EU"])
    assert [e.code for e in elements] == ["nature", "dpo_contact", "likely_consequences", "measures"]
    assert all(e.citation.startswith("GDPR art. 34(2)") for e in elements)


def test_hk_cites_pcpd_guidance_in_traditional_chinese_too() -> None:
    elements = rule_pack(Jurisdiction.HK).notice_elements
    assert [e.code for e in elements] == CN_ELEMENTS
    assert all("PCPD Guidance on Data Breach Handling" in e.citation for e in elements)
    assert all(e.label.zh_tw for e in elements)


def test_union_is_by_code() -> None:
    elements = required_notice_elements([Jurisdiction.HK, Jurisdiction.EU, Jurisdiction.CN])
    codes = [e.code for e in elements]
    assert codes == [*CN_ELEMENTS, "nature", "dpo_contact", "likely_consequences", "measures"]
    cause = next(e for e in elements if e.code == "cause")
    assert (
        cause.citation
        == "PIPL art. 57(1); PCPD Guidance on Data Breach Handling and Data Breach Notifications"
    )


def test_incident_clocks() -> None:
    clocks = incident_clocks(list(Jurisdiction))
    assert [(c.code, c.hours) for c in clocks] == [
        ("critical_infrastructure", 1),
        ("significant_incident", 4),
        ("authority_notification", 72),
    ]
    assert all(isinstance(c, IncidentClock) for c in clocks)
    assert incident_clocks(["HK"]) == []
    assert clocks[2].citation == "GDPR art. 33(1)"


def test_empty_list_is_rejected() -> None:
    with pytest.raises(ValueError, match="use one or more of CN, HK, EU"):
        required_notice_elements([])
