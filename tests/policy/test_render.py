from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from charter.core.i18n import Lang
from charter.policy.render import clause_anchors, render_html, render_markdown
from charter.policy.schema import PolicyVersion
from tests.policy.policies import LANDUPS, LUBPUR, edit, load, minimal, minimal_text


class _Tags(HTMLParser):
    """Collects start tags and their attributes, and checks that every opened element is closed."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (self.open, tag)
        self.open.pop()


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    return parser


@pytest.mark.parametrize(("lang", "html_lang"), [("zh", "zh-CN"), ("zh-CN", "zh-CN"), ("zh-TW", "zh-TW"), ("en", "en")])
def test_html_is_a_complete_document_in_the_asked_language(lang: str, html_lang: str) -> None:
    html = render_html(minimal(), lang)
    assert html.startswith("<!DOCTYPE html>\n")
    tags = _parse(html)
    assert ("html", {"lang": html_lang}) in tags.tags
    assert [t for t, _ in tags.tags][:3] == ["html", "head", "meta"]
    assert "<title>" in html


def test_html_carries_title_version_date_every_clause_and_the_contacts() -> None:
    policy = minimal()
    html = render_html(policy, Lang.EN)
    assert "<title>Acme Ltd · Privacy Policy</title>" in html
    assert '<span class="version">1.0</span>' in html
    assert '<time datetime="2024-01-01">2024-01-01</time>' in html
    ids = {attrs.get("id") for _, attrs in _parse(html).tags}
    for clause in policy.clauses:
        assert clause.title.en in html
        assert f'href="#{clause_anchors(policy)[clause.id]}"' in html
        assert clause_anchors(policy)[clause.id] in ids
    assert "<strong>email address</strong>" in html
    assert 'id="contacts"' in html
    assert "privacy@acme.example" in html


def test_chinese_html_uses_chinese_labels_and_dates() -> None:
    html = render_html(minimal(), "zh")
    assert "<title>示例公司 · 隐私政策</title>" in html
    assert "2024年1月1日" in html
    assert "联系我们" in html
    assert "我们收集您的<strong>电子邮箱</strong>。" in html


def test_traditional_chinese_falls_back_to_simplified_text() -> None:
    text = edit(
        minimal_text(),
        ("title: {zh: 联系我们, en: Contact us}", "title: {zh: 联系我们, en: Contact us, zh_tw: 聯絡我們}"),
    )
    html = render_html(load(text).policy, "zh-TW")
    assert "<h2>聯絡我們</h2>" in html
    assert "<h2>我们收集的信息</h2>" in html
    assert "私隱政策" in html


def _hostile() -> PolicyVersion:
    text = edit(
        minimal_text(),
        ("title: {zh: 联系我们, en: Contact us}", "title: {zh: 联系我们, en: 'Contact <b>us</b> & \"friends\"'}"),
        (
            "body: {zh: 请写信给我们。, en: Write to us.}",
            "body: {zh: 请写信给我们。, en: 'Hi <script>alert(1)</script> [x](javascript:alert(2))"
            " <img src=x onerror=alert(3)>'}",
        ),
        ("en: Acme Ltd}", "en: 'Acme <i>Ltd</i>'}"),
        ("value: privacy@acme.example", "value: '<a href=\"//evil\">mail</a>'"),
        ('version: "1.0"', 'version: "1.0<br>"'),
    )
    return load(text).policy


def test_html_escapes_everything_the_policy_says() -> None:
    html = render_html(_hostile(), "en")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[x](javascript:alert(2))" in html
    assert not any("javascript" in str(attrs) for _, attrs in _parse(html).tags)
    assert "<img" not in html
    assert "<b>" not in html and "<i>" not in html and "<br>" not in html
    assert "Contact &lt;b&gt;us&lt;/b&gt; &amp; &quot;friends&quot;" in html
    assert "&lt;a href=&quot;//evil&quot;&gt;mail&lt;/a&gt;" in html
    assert not any(tag == "a" and "evil" in str(attrs) for tag, attrs in _parse(html).tags)


def test_clause_ids_become_unique_url_safe_anchors() -> None:
    text = edit(minimal_text(), ('  - id: "1"', '  - id: "5.(3)"'), ('  - id: "2"', '  - id: "5-3"'))
    policy = load(text).policy
    assert clause_anchors(policy) == {"5.(3)": "clause-5-3", "5-3": "clause-5-3-2"}
    html = render_html(policy, "en")
    assert 'data-clause="5.(3)"' in html


@pytest.mark.parametrize("lang", ["zh-CN", "zh-TW", "en"])
def test_markdown_has_every_clause_and_the_contacts(lang: str) -> None:
    policy = minimal()
    markdown = render_markdown(policy, lang)
    for clause in policy.clauses:
        assert f"## {clause.title.get(lang)}\n\n{clause.body.get(lang)}" in markdown
    assert "privacy@acme.example" in markdown
    assert markdown.endswith("\n")


def test_markdown_header_in_english_and_chinese() -> None:
    assert render_markdown(minimal(), "en").startswith(
        "# Acme Ltd · Privacy Policy\n\nVersion: 1.0 · Effective: 2024-01-01\n"
    )
    assert render_markdown(minimal(), "zh").startswith("# 示例公司 · 隐私政策\n\n版本：1.0 · 生效日期：2024年1月1日\n")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        render_html(minimal(), "fr")


@pytest.mark.parametrize("path", [LUBPUR, LANDUPS], ids=["lubpur", "landups"])
def test_the_example_policies_render_every_clause(path: Path) -> None:
    policy = load(path.read_text(encoding="utf-8")).policy
    for lang in ("zh-CN", "en"):
        html = render_html(policy, lang)
        _parse(html)
        sections = re.findall(r'<section id="(clause-[^"]+)"', html)
        assert sections == [clause_anchors(policy)[c.id] for c in policy.clauses]
