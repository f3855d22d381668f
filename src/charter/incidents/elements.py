"""What a breach notice to people must contain, checked before it is stored or sent. Pure.

`required_notice_elements` merges the controller's jurisdictions (CN: categories, cause, possible harm, measures
taken, what individuals can do, remedies, contact; EU adds nature, likely consequences, measures, DPO contact).
A notice missing one is refused with the element named, so nobody sends an incomplete notice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from charter.core.errors import CharterError
from charter.core.i18n import Text
from charter.jurisdictions import NoticeElement, required_notice_elements
from charter.policy.contacts import contact_text
from charter.policy.schema import PolicyVersion

__all__ = ["CONTACT_ELEMENTS", "MissingElement", "check_elements", "contact_text", "required_elements"]

CONTACT_ELEMENTS = ("contact", "dpo_contact")
"""Elements that are the controller's contact: filled from the policy's contacts when not given."""

class MissingElement(CharterError):
    code = "notice_incomplete"


def required_elements(policy: PolicyVersion) -> list[NoticeElement]:
    return required_notice_elements([j.value for j in policy.jurisdictions])


def check_elements(required: Sequence[NoticeElement], given: Mapping[str, Text], *,
                   needs_zh_tw: bool = False) -> None:
    """Raise `MissingElement` naming the first required element that is absent or blank in a language, or an
    element no jurisdiction of the controller knows."""
    known = {e.code for e in required}
    for code in given:
        if code not in known:
            raise CharterError(f"{code!r} is not an element of this controller's breach notices",
                               field=f"elements.{code}", fix=f"Use the elements: {', '.join(sorted(known))}.")
    for element in required:
        text = given.get(element.code)
        if text is None:
            raise MissingElement(f"the notice lacks “{element.label.en}” ({element.code}, {element.citation})",
                                 field=f"elements.{element.code}",
                                 fix="Add it in Chinese and English: every notice must carry every element its "
                                     "jurisdictions require.")
        for lang in _languages(needs_zh_tw):
            value = getattr(text, lang)
            if value is None or not value.strip():
                raise MissingElement(f"the notice's “{element.label.en}” ({element.code}) is empty in {lang}",
                                     field=f"elements.{element.code}.{lang}",
                                     fix="Write it in every language the notice is sent in.")


def _languages(needs_zh_tw: bool) -> Iterable[str]:
    return ("zh", "en", "zh_tw") if needs_zh_tw else ("zh", "en")
