from charter import jurisdictions


def test_all_lists_what_the_package_exports() -> None:
    assert sorted(jurisdictions.__all__) == jurisdictions.__all__
    for name in jurisdictions.__all__:
        assert hasattr(jurisdictions, name), name
    assert set(jurisdictions.__all__) >= {
        "Jurisdiction",
        "RequestKind",
        "LegalBasis",
        "Deadline",
        "RefusalGround",
        "NoticeElement",
        "IncidentClock",
        "RulePack",
        "rule_pack",
        "due_date",
        "refusal_grounds",
        "required_notice_elements",
        "minor_age",
    }
