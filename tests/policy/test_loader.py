from __future__ import annotations

from pathlib import Path

import pytest

from charter.policy.loader import PolicyFileError, Problem, load_policy_file, load_policy_text
from tests.policy.policies import MINIMAL, edit, line_of, minimal_text


def _problems(text: str) -> list[Problem]:
    with pytest.raises(PolicyFileError) as caught:
        load_policy_text(text, "p.yaml")
    return caught.value.problems


def _only(text: str) -> Problem:
    problems = _problems(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_the_minimal_fixture_loads_with_a_line_for_every_field() -> None:
    loaded = load_policy_file(MINIMAL)
    text = minimal_text()
    assert loaded.policy.controller.id == "acme"
    assert loaded.source == str(MINIMAL)
    assert loaded.raw["controller"]["id"] == "acme"
    assert loaded.lines["purposes[1]"] == line_of(text, "- id: marketing")
    assert loaded.lines["purposes[1].consent"] == line_of(text, "consent: general")
    assert loaded.lines["purposes[2].categories[0]"] == line_of(text, "categories: [finance.bank_account]")
    assert loaded.lines["purposes[0].retention.while"] == line_of(text, "while: account_active")


def test_a_path_not_written_in_the_file_takes_its_parents_line() -> None:
    loaded = load_policy_file(MINIMAL)
    assert loaded.line_of("recipients[0].note") == loaded.lines["recipients[0]"]
    assert loaded.line_of("purposes[1].label.zh_tw") == loaded.lines["purposes[1].label"]


def test_a_problem_reads_file_line_path_message_and_fix() -> None:
    problem = Problem("p.yaml", 7, "purposes[0].id", "the id is used twice", "rename one")
    assert str(problem) == "p.yaml:7: purposes[0].id: the id is used twice. Fix: rename one"
    assert str(Problem("p.yaml", None, "", "no such file.", "check the path")) == (
        "p.yaml: (document): no such file. Fix: check the path"
    )


def test_the_error_message_lists_every_problem() -> None:
    text = edit(minimal_text(), ("role: processor", "role: mystery"), ("  id: acme", "  id: A"))
    with pytest.raises(PolicyFileError) as caught:
        load_policy_text(text, "p.yaml")
    assert len(caught.value.problems) == 2
    assert "controller.id" in str(caught.value)
    assert "recipients[0].role" in str(caught.value)


def test_problems_come_in_line_order() -> None:
    text = edit(minimal_text(), ("role: processor", "role: mystery"), ("  id: acme", "  id: A"))
    lines = [p.line or 0 for p in _problems(text)]
    assert lines == sorted(lines)


def test_a_duplicate_key_is_an_error_not_a_silent_overwrite() -> None:
    text = edit(minimal_text(), ("    consent: general\n", "    consent: general\n    consent: separate\n"))
    problem = _only(text)
    assert problem.path == "purposes[1].consent"
    assert problem.line == line_of(text, "consent: separate", 1)
    assert f"first on line {line_of(text, 'consent: general')}" in problem.message
    assert "keep one `consent:`" in problem.fix


def test_every_duplicate_key_is_reported_together_with_schema_errors() -> None:
    text = edit(
        minimal_text(),
        ("  id: acme\n", "  id: acme\n  id: acme2\n"),
        ('version: "1.0"\n', 'version: "1.0"\nversion: "2.0"\n'),
        ("role: processor", "role: mystery"),
    )
    paths = [p.path for p in _problems(text)]
    assert paths == ["controller.id", "version", "recipients[0].role"]


def test_an_empty_file_says_how_to_start() -> None:
    problem = _only("# nothing yet\n")
    assert problem.message == "the file is empty"
    assert "schema: charter.policy/v1" in problem.fix


def test_a_list_document_is_not_a_policy() -> None:
    problem = _only("- schema: charter.policy/v1\n")
    assert problem.line == 1
    assert "a list, not a mapping" in problem.message


def test_a_yaml_syntax_error_has_its_line() -> None:
    text = edit(minimal_text(), ("languages: [zh-CN, en]", "languages: [zh-CN, en"))
    problem = _only(text)
    assert problem.line == line_of(text, "jurisdictions: [CN]")
    assert "flow sequence" in problem.message
    assert "quoting" in problem.fix


def test_a_tab_is_explained() -> None:
    text = edit(minimal_text(), ("  policy: guardian_consent", "\tpolicy: guardian_consent"))
    problem = _only(text)
    assert problem.line == line_of(text, "policy: guardian_consent")
    assert problem.fix == "indent with spaces, never tabs"


def test_two_documents_in_one_file_are_refused() -> None:
    problem = _only(minimal_text() + "---\nschema: charter.policy/v1\n")
    assert "single document" in problem.message
    assert "one policy version per file" in problem.fix


def test_a_missing_top_level_field_points_at_the_document() -> None:
    text = edit(minimal_text(), ("minors:\n  policy: guardian_consent\n  age_threshold: 14\n", ""))
    problem = _only(text)
    assert problem.path == "minors"
    assert problem.line == line_of(text, "schema:")
    assert problem.fix == "add `minors:` at the top level of the file"


def test_a_missing_translation_names_the_language_and_the_parent_line() -> None:
    text = edit(minimal_text(), ("label: {zh: 营销邮件, en: Marketing email}", "label: {zh: 营销邮件}"))
    problem = _only(text)
    assert problem.path == "purposes[1].label.en"
    assert problem.line == line_of(text, "label: {zh: 营销邮件}")
    assert problem.message == "the English text (`en`) is missing"
    assert problem.fix == "add `en:` under `purposes[1].label`"


def test_a_blank_translation_is_refused() -> None:
    text = edit(minimal_text(), ("title: {zh: 联系我们, en: Contact us}", "title: {zh: '  ', en: Contact us}"))
    problem = _only(text)
    assert problem.path == "clauses[1].title"
    assert "zh text is empty" in problem.message
    assert "`zh`" in problem.fix


def test_an_unknown_field_lists_the_allowed_ones_and_guesses() -> None:
    text = edit(minimal_text(), ("    is_essential: true\n", "    is_esential: true\n"))
    problems = _problems(text)
    unknown = next(p for p in problems if p.path == "purposes[0].is_esential")
    assert unknown.line == line_of(text, "is_esential")
    assert unknown.fix.startswith("did you mean `is_essential`?")
    assert "allowed fields are id, label, description, legal_basis" in unknown.fix
    missing = next(p for p in problems if p.path == "purposes[0].is_essential")
    assert missing.line == line_of(text, "- id: account")


def test_an_unknown_language_in_a_text_is_an_unknown_field() -> None:
    text = edit(minimal_text(), ("{zh: 一年, en: One year}", "{zh: 一年, en: One year, fr: Un an}"))
    problem = _only(text)
    assert problem.path == "purposes[1].retention.text.fr"
    assert "allowed fields are zh, en, zh_tw" in problem.fix


def test_a_wrong_enum_value_suggests_the_closest() -> None:
    text = edit(minimal_text(), ("    legal_basis: contract", "    legal_basis: contrat"))
    problem = _only(text)
    assert problem.path == "purposes[0].legal_basis"
    assert problem.line == line_of(text, "legal_basis: contrat")
    assert problem.fix.startswith("did you mean `contract`? use one of consent, contract, legal_duty")


@pytest.mark.parametrize(
    ("old", "new", "path", "fix"),
    [
        ("  - id: contact.email", "  - id: Contact-Email", "categories[0].id", "lowercase words joined by dots"),
        ("  - id: account", "  - id: Account", "purposes[0].id", "a lowercase letter, then"),
        ("storage_regions: [CN]", "storage_regions: [cn]", "storage_regions[0]", "ISO 3166-1 alpha-2"),
        ('  - id: "1"\n', '  - id: "1"\n    promises: [lub-x]\n', "clauses[0].promises[0]", "`LUB-` or `LAN-`"),
    ],
)
def test_an_id_in_the_wrong_format_explains_the_format(old: str, new: str, path: str, fix: str) -> None:
    text = edit(minimal_text(), (old, new))
    problem = next(p for p in _problems(text) if p.path == path)
    assert problem.line == line_of(text, new.strip().splitlines()[-1])
    assert fix in problem.fix


def test_a_number_where_text_belongs_asks_for_quotes() -> None:
    text = edit(minimal_text(), ('version: "1.0"', "version: 1.0"))
    problem = _only(text)
    assert problem.path == "version"
    assert problem.line == line_of(text, "version: 1.0")
    assert problem.message == "`version` must be text, but YAML read 1.0 as a number"
    assert "quotes" in problem.fix


def test_a_bad_date_shows_the_format() -> None:
    text = edit(minimal_text(), ("effective: 2024-01-01", "effective: next monday"))
    problem = _only(text)
    assert problem.path == "effective"
    assert "YYYY-MM-DD" in problem.fix


def test_the_wrong_schema_says_which_one() -> None:
    text = edit(minimal_text(), ("schema: charter.policy/v1", "schema: charter.policy/v2"))
    problem = _only(text)
    assert problem.fix == "write `schema: charter.policy/v1`"


def test_a_value_where_a_mapping_belongs_lists_its_fields() -> None:
    text = edit(minimal_text(), ("    label: {zh: 营销邮件, en: Marketing email}", "    label: Marketing email"))
    problem = _only(text)
    assert problem.path == "purposes[1].label"
    assert "mapping of `zh`, `en`, `zh_tw`" in problem.fix


def test_an_empty_list_asks_for_an_entry() -> None:
    text = edit(minimal_text(), ("    purposes: [marketing]", "    purposes: []"))
    problem = _only(text)
    assert problem.path == "recipients[0].purposes"
    assert problem.fix == "give `purposes` at least one entry"


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(tmp_path / "absent.yaml")
    assert caught.value.problems[0].message == "no such file"


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(minimal_text().encode("gbk"))
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(path)
    assert "UTF-8" in caught.value.problems[0].fix


def test_a_recursive_alias_is_refused_instead_of_recursing_forever() -> None:
    problem = _only(minimal_text() + "x: &loop [*loop]\n")
    assert problem.path == "x[0]"
    assert problem.line == line_of(minimal_text() + "x: &loop [*loop]\n", "x: &loop")
    assert "`*name`" in problem.fix


def test_anchors_and_merge_keys_still_work() -> None:
    text = edit(
        minimal_text(),
        ("    label: {zh: 营销邮件, en: Marketing email}", "    label: &news {zh: 营销邮件, en: Marketing email}"),
        ("    description: {zh: 发送产品信息, en: Send product news}", "    description:\n      <<: *news"),
    )
    purpose = load_policy_text(text, "p.yaml").policy.purposes[1]
    assert purpose.description == purpose.label
