import pytest

from charter.core.i18n import Lang, Text
from charter.jurisdictions import Jurisdiction, LegalBasis, RequestKind, minor_age, rule_pack


def test_enum_values() -> None:
    assert [j.value for j in Jurisdiction] == ["CN", "HK", "EU"]
    assert {k.value for k in RequestKind} == {
        "access",
        "portability",
        "rectification",
        "erasure",
        "restriction",
        "withdrawal",
        "cancellation",
        "explanation",
    }


def test_parse() -> None:
    assert Jurisdiction.parse(" hk ") is Jurisdiction.HK
    assert RequestKind.parse("ERASURE") is RequestKind.ERASURE
    with pytest.raises(ValueError, match=r"unknown jurisdiction 'UK': use one of CN, HK, EU"):
        Jurisdiction.parse("UK")
    with pytest.raises(ValueError, match="unknown request kind 3"):
        RequestKind.parse(3)


def test_legal_bases_are_the_seven_of_pipl_13() -> None:
    assert [b.value for b in LegalBasis] == [
        "consent",
        "contract",
        "legal_duty",
        "emergency",
        "news",
        "public_info",
        "other_law",
    ]
    assert [b.citation for b in LegalBasis][:5] == [f"PIPL art. 13(1)({i})" for i in range(1, 6)]
    assert "art. 27" in LegalBasis.PUBLIC_INFO.citation
    assert LegalBasis.CONSENT.label.get(Lang.EN) == "the individual's consent"
    assert "legitimate" not in " ".join(b.label.en for b in LegalBasis)
    assert rule_pack("CN").legal_bases == tuple(LegalBasis)


@pytest.mark.parametrize(("codes", "age"), [(["CN"], 14), (["HK"], 18), (["EU"], 16), (["CN", "EU"], 16)])
def test_minor_age_takes_the_highest_threshold(codes: list[str], age: int) -> None:
    assert minor_age(codes) == age
    assert minor_age([*codes, "HK"]) == 18


def _texts(j: Jurisdiction) -> list[Text]:
    pack = rule_pack(j)
    texts = [pack.name, *(g.label for g in pack.refusal_grounds), *(e.label for e in pack.notice_elements)]
    return texts + [c.label for c in pack.incident_clocks]


@pytest.mark.parametrize("j", list(Jurisdiction))
def test_every_label_is_bilingual(j: Jurisdiction) -> None:
    for text in _texts(j):
        assert text.zh.strip()
        assert text.en.strip()
        if j is Jurisdiction.HK:
            assert text.zh_tw


def test_codes_are_unique_within_each_pack() -> None:
    for j in Jurisdiction:
        pack = rule_pack(j)
        for codes in ([g.code for g in pack.refusal_grounds], [e.code for e in pack.notice_elements]):
            assert len(codes) == len(set(codes))


def test_pack_lookup_matches_its_jurisdiction() -> None:
    assert [rule_pack(j).jurisdiction for j in Jurisdiction] == list(Jurisdiction)
    assert rule_pack("eu") is rule_pack(Jurisdiction.EU)
