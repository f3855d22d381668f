import pytest

from charter.jurisdictions import Jurisdiction, RequestKind, refusal_grounds, rule_pack
from charter.jurisdictions.cn import GBT_2017_REFUSAL_CODES

CN_CODES = {
    "legal_obligation",
    "national_security",
    "public_interest",
    "criminal_investigation",
    "malice_or_abuse",
    "life_or_property",
    "serious_harm",
    "trade_secret",
}


def _codes(*jurisdictions: Jurisdiction, kind: RequestKind) -> list[str]:
    return [g.code for g in refusal_grounds(jurisdictions, kind)]


def test_cn_has_the_eight_grounds_of_gbt_35273_2020() -> None:
    grounds = rule_pack(Jurisdiction.CN).refusal_grounds
    assert [g.code for g in grounds] == [
        "legal_obligation",
        "national_security",
        "public_interest",
        "criminal_investigation",
        "malice_or_abuse",
        "life_or_property",
        "serious_harm",
        "trade_secret",
    ]
    assert all(g.citation.startswith("GB/T 35273-2020 §8.7") for g in grounds)


def test_the_six_2017_grounds_of_the_lubpur_policy_are_a_subset() -> None:
    assert len(GBT_2017_REFUSAL_CODES) == 6
    assert GBT_2017_REFUSAL_CODES < CN_CODES
    assert {"legal_obligation", "life_or_property"} == CN_CODES - GBT_2017_REFUSAL_CODES


@pytest.mark.parametrize("kind", list(RequestKind))
def test_cn_grounds_apply_to_every_kind(kind: RequestKind) -> None:
    assert set(_codes(Jurisdiction.CN, kind=kind)) == CN_CODES


def test_hk_correction_grounds_are_pdpo_s24() -> None:
    codes = set(_codes(Jurisdiction.HK, kind=RequestKind.RECTIFICATION))
    assert codes == {
        "identity_not_verified",
        "language_not_chinese_or_english",
        "not_satisfied_inaccurate",
        "insufficient_information",
        "other_data_user_controls",
        "correction_not_accurate",
    }


def test_hk_access_grounds_are_pdpo_s20() -> None:
    codes = set(_codes(Jurisdiction.HK, kind=RequestKind.ACCESS))
    assert {"identity_not_verified", "other_individual_data", "repeated_request"} <= codes
    assert "not_satisfied_inaccurate" not in codes
    ground = next(
        g for g in refusal_grounds([Jurisdiction.HK], RequestKind.ACCESS) if g.code == "other_individual_data"
    )
    assert ground.citation.startswith("PDPO s.20(1)(b)")


def test_hk_has_no_statutory_ground_for_erasure() -> None:
    assert refusal_grounds(["HK"], RequestKind.ERASURE) == []


def test_hk_labels_have_traditional_chinese() -> None:
    assert all(g.label.zh_tw for g in rule_pack(Jurisdiction.HK).refusal_grounds)


def test_eu_grounds() -> None:
    codes = _codes(Jurisdiction.EU, kind=RequestKind.ERASURE)
    assert codes[0] == "manifestly_unfounded_or_excessive"
    assert len(codes) == 11  # art. 12(5) plus art. 23(1)(a)–(j)
    grounds = rule_pack(Jurisdiction.EU).refusal_grounds
    assert grounds[0].citation == "GDPR art. 12(5)"
    assert [g.citation for g in grounds[1:]] == [f"GDPR art. 23(1)({p})" for p in "abcdefghij"]


def test_union_dedups_by_code_and_keeps_every_citation() -> None:
    grounds = refusal_grounds([Jurisdiction.EU, Jurisdiction.CN], RequestKind.ACCESS)
    codes = [g.code for g in grounds]
    assert len(codes) == len(set(codes))
    assert set(codes) == CN_CODES | set(_codes(Jurisdiction.EU, kind=RequestKind.ACCESS))
    security = next(g for g in grounds if g.code == "national_security")
    assert security.citation == "GB/T 35273-2020 §8.7, item 2; GDPR art. 23(1)(a)"
    assert security.label == rule_pack(Jurisdiction.CN).refusal_grounds[1].label


def test_union_over_all_three() -> None:
    grounds = refusal_grounds(list(Jurisdiction), RequestKind.RECTIFICATION)
    codes = [g.code for g in grounds]
    assert len(codes) == len(set(codes)) == 8 + 6 + 11 - 3  # three codes shared by CN and EU
    assert all(RequestKind.RECTIFICATION in g.applies_to for g in grounds)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        refusal_grounds([], RequestKind.ACCESS)
    with pytest.raises(ValueError, match="'refund'"):
        refusal_grounds(["CN"], "refund")
