"""Templates: complete in three languages, escaped where HTML, and the marketing-mail rules."""

from __future__ import annotations

import datetime as dt

import pytest

from charter.core.errors import CharterError
from charter.core.i18n import Lang, Text
from charter.outbox.rendering import TEMPLATES, Marketing, Rendered, TemplateSpec, check_templates, render

SAMPLES: dict[str, dict[str, object]] = {
    "verification_code": {"code": "042917", "expires_minutes": 10},
    "request_received": {"reference": "R-1", "request_type": Text(zh="查阅", en="access", zh_tw="查閱"),
                         "due_date": dt.date(2025, 3, 14)},
    "request_completed": {"reference": "R-1", "request_type": "erasure",
                          "held_items": [Text(zh="发票（税法要求保存）", en="invoices (tax law)")]},
    "request_refused": {"reference": "R-1", "request_type": "access",
                        "ground": Text(zh="与国家安全有关", en="related to national security")},
    "policy_change": {"effective": dt.date(2025, 6, 1), "changes": [Text(zh="新增用途", en="a new purpose")],
                      "needs_consent": True, "policy_url": "https://lubpur.example/privacy"},
    "breach_notice": {"elements": [{"label": Text(zh="原因", en="Cause"),
                                    "text": Text(zh="撞库", en="reused passwords")}],
                      "contact": "dpo@lubpur.example", "occurred": dt.date(2025, 1, 2)},
    "controller_transfer": {"new_holder": "Acme Holdings", "transfer_date": dt.date(2025, 9, 1),
                            "contact": "dpo@lubpur.example", "new_holder_contact": "privacy@acme.example",
                            "undertaking": Text(zh="继续履行全部承诺", en="keeps every promise")},
    "disclosure_notice": {"authority": Text(zh="上海市公安局", en="Shanghai Public Security Bureau"),
                          "grounds": Text(zh="刑事诉讼法第五十四条", en="Criminal Procedure Law art. 54"),
                          "categories": [Text(zh="电子邮箱", en="email address")], "disclosed_on": dt.date(2025, 4, 2),
                          "contact": "dpo@lubpur.example", "reference": "沪公(2025)12号"},
    "service_shutdown": {"stopped_on": dt.date(2025, 10, 1), "last_day": dt.date(2025, 10, 31),
                         "contact": "dpo@lubpur.example"},
    "appeal_resolved": {"reference": "R-3", "request_type": "explanation", "outcome": "overturned",
                        "note": "A reviewer found the second order."},
    "decision_explanation": {"reference": "R-2", "request_type": "explanation", "decision": "recommendations",
                             "outcome": Text(zh="推荐了齿轮油", en="gear oils were recommended"),
                             "logic_version": "rec-2", "made_on": dt.date(2025, 2, 1),
                             "explanation": Text(zh="根据您的收藏", en="from your favourites"),
                             "inputs": ["favourites"]},
    "recipient_notice": {"reference": "R-3", "action": "erasure", "categories": ["basic.email"],
                         "ack_token": "tok-1"},
    "newsletter": {"title": "Spring catalogue", "paragraphs": ["New gear oils."], "link_url": "https://l.example/n"},
}
MARKETING = Marketing(sender_name="Lubpur 超润", sender_contact="400-820-0000",
                      unsubscribe_url="https://lubpur.example/unsubscribe?t=abc&x=1")


def _render(template_id: str, lang: Lang | str, **extra: object) -> Rendered:
    marketing = MARKETING if TEMPLATES[template_id].is_marketing else None
    return render(template_id, lang, {**SAMPLES[template_id], "controller_name": "Lubpur", **extra},
                  marketing=marketing)


def test_every_template_exists_in_every_language() -> None:
    assert check_templates() == []
    assert set(SAMPLES) == set(TEMPLATES)


def test_the_check_names_a_template_missing_a_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TEMPLATES, "ghost", TemplateSpec("ghost", frozenset()))
    assert [p.split(" (")[0] for p in check_templates()] == [
        "ghost has no zh-CN version", "ghost has no zh-TW version", "ghost has no en version"]


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_renders_in_each_language_differently(template_id: str) -> None:
    rendered = {lang: _render(template_id, lang) for lang in Lang}
    for lang, r in rendered.items():
        assert r.subject and "\n" not in r.subject
        assert "{{" not in r.text and "{%" not in r.html
        assert f'<html lang="{lang.value}">' in r.html
    texts = {r.text for r in rendered.values()}
    assert len(texts) == 3


def test_verification_code_in_each_language() -> None:
    zh, tw, en = (render("verification_code", lang, {**SAMPLES["verification_code"], "controller_name": "超润"})
                  for lang in ("zh-CN", "zh-TW", "en"))
    assert zh.subject == "超润身份验证码"
    assert tw.subject == "超润身分驗證碼"
    assert en.subject == "Your 超润 verification code"
    assert "042917" in zh.text and "10 分钟" in zh.text
    assert "10 minutes" in en.text
    assert '<p style="font-size:28px;letter-spacing:6px;font-weight:700;margin:8px 0" id="code">042917</p>' in en.html


def test_html_is_escaped_and_text_is_not() -> None:
    r = render("request_refused", "en", {"reference": "<b>R&1</b>", "request_type": "access",
                                         "ground": "x", "controller_name": "A & B"})
    assert "&lt;b&gt;R&amp;1&lt;/b&gt;" in r.html
    assert "<b>R&1</b>" not in r.html
    assert "reference <b>R&1</b>" in r.text
    assert "A & B" in r.text


def test_text_values_and_dates_take_the_messages_language() -> None:
    zh = _render("request_received", "zh-CN")
    en = _render("request_received", "en")
    assert "查阅请求" in zh.text and "2025年3月14日" in zh.text
    assert "access request" in en.text and "March 14, 2025" in en.text
    tw = _render("request_completed", "zh-TW")
    assert "发票（税法要求保存）" in tw.text  # zh_tw falls back to zh


def test_missing_and_unknown_parameters_are_refused() -> None:
    with pytest.raises(CharterError, match="needs code") as err:
        render("verification_code", "en", {"expires_minutes": 10, "controller_name": "x"})
    assert err.value.field == "params"
    with pytest.raises(CharterError, match="takes no colour"):
        render("verification_code", "en", {**SAMPLES["verification_code"], "colour": 1, "controller_name": "x"})
    with pytest.raises(CharterError, match="no message template"):
        render("nope", "en", {})


def test_marketing_mail_carries_sender_unsubscribe_and_ad_prefix() -> None:
    zh = _render("newsletter", "zh-CN")
    en = _render("newsletter", "en")
    tw = _render("newsletter", "zh-TW")
    assert zh.subject == "广告：Spring catalogue"
    assert en.subject == "AD: Spring catalogue"
    assert tw.subject.startswith("AD")
    for r in (zh, en, tw):
        assert r.headers == {"List-Unsubscribe": "<https://lubpur.example/unsubscribe?t=abc&x=1>",
                             "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        assert "Lubpur 超润" in r.text and "400-820-0000" in r.text
        assert "https://lubpur.example/unsubscribe?t=abc&x=1" in r.text
        assert '<a href="https://lubpur.example/unsubscribe?t=abc&amp;x=1">' in r.html
        assert "<img" not in r.html


def test_ad_prefix_only_when_the_obligation_says_so() -> None:
    plain = render("newsletter", "zh-CN", {**SAMPLES["newsletter"], "controller_name": "L"},
                   marketing=Marketing("L", "400", "https://l.example/u", needs_ad_prefix=False))
    assert plain.subject == "Spring catalogue"


def test_tracking_pixel_only_for_people_who_allowed_it() -> None:
    pixel = "https://l.example/open/abc.gif"
    params = {**SAMPLES["newsletter"], "controller_name": "L"}
    allowed = render("newsletter", "en", params, marketing=Marketing(
        "L", "400", "https://l.example/u", allow_tracking=True, tracking_pixel_url=pixel))
    refused = render("newsletter", "en", params, marketing=Marketing(
        "L", "400", "https://l.example/u", allow_tracking=False, tracking_pixel_url=pixel))
    assert f'<img src="{pixel}"' in allowed.html
    assert pixel not in refused.html and pixel not in refused.text


def test_marketing_details_are_required_and_checked() -> None:
    params = {**SAMPLES["newsletter"], "controller_name": "L"}
    with pytest.raises(CharterError, match="needs marketing details"):
        render("newsletter", "en", params)
    with pytest.raises(CharterError, match="takes no marketing"):
        render("verification_code", "en", {**SAMPLES["verification_code"], "controller_name": "L"},
               marketing=MARKETING)
    with pytest.raises(CharterError, match="unsubscribe_url is not an http"):
        render("newsletter", "en", params, marketing=Marketing("L", "400", "javascript:alert(1)"))
    with pytest.raises(CharterError, match="name its sender"):
        render("newsletter", "en", params, marketing=Marketing(" ", "400", "https://l.example/u"))
