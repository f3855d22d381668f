"""A notice must carry every element the jurisdictions require: pure checks."""

from __future__ import annotations

import pytest

from charter.core.errors import CharterError
from charter.core.i18n import Text
from charter.incidents import MissingElement, check_elements, contact_text, required_elements
from charter.jurisdictions import required_notice_elements
from tests.policy.policies import minimal

CN = required_notice_elements(["CN"])


def complete(codes: list[str]) -> dict[str, Text]:
    return {code: Text(zh=f"{code}的说明", en=f"About {code}") for code in codes}


def test_cn_requires_the_seven_elements_and_eu_adds_its_own() -> None:
    assert [e.code for e in CN] == ["categories", "cause", "possible_harm", "measures_taken",
                                    "what_individuals_can_do", "remedies", "contact"]
    assert {"nature", "likely_consequences", "measures", "dpo_contact"} <= {
        e.code for e in required_notice_elements(["CN", "EU"])}
    assert [e.code for e in required_elements(minimal())] == [e.code for e in CN]


def test_a_missing_element_is_named() -> None:
    given = complete([e.code for e in CN if e.code != "remedies"])
    with pytest.raises(MissingElement) as err:
        check_elements(CN, given)
    assert err.value.field == "elements.remedies"
    assert "remedies offered to the people affected" in err.value.message


def test_an_element_blank_in_a_language_or_unknown_is_refused() -> None:
    given = complete([e.code for e in CN])
    given["cause"] = Text(zh="钓鱼邮件", en="  ")
    with pytest.raises(MissingElement) as err:
        check_elements(CN, given)
    assert err.value.field == "elements.cause.en"
    given = complete([e.code for e in CN])
    with pytest.raises(MissingElement, match="empty in zh_tw"):
        check_elements(CN, given, needs_zh_tw=True)
    given["weather"] = Text(zh="晴", en="sunny")
    with pytest.raises(CharterError) as unknown:
        check_elements(CN, given)
    assert unknown.value.field == "elements.weather"
    check_elements(CN, complete([e.code for e in CN]))


def test_the_contact_comes_from_the_policy() -> None:
    text = contact_text(minimal())
    assert (text.en, text.zh) == ("Complaints: privacy@acme.example", "投诉邮箱：privacy@acme.example")
