"""Identifier checks: known-valid and known-invalid numbers."""

from __future__ import annotations

import pytest

from landups.identifiers import (
    Invalid,
    clean_bank_account,
    clean_cn_ric,
    clean_contact,
    clean_domain,
    clean_email,
    clean_hkid,
    clean_id_number,
    clean_phone,
    clean_uscc,
    hkid_check_digit,
    mask_bank_account,
    mask_id_number,
)


@pytest.mark.parametrize(("raw", "clean"), [
    ("A123456(3)", "A123456(3)"),        # single letter: the missing letter counts as a space (36)
    ("a123456(3)", "A123456(3)"),
    ("A 123456 3", "A123456(3)"),
    ("A123456（3）", "A123456(3)"),       # full-width parentheses, as typed with a Chinese input method
    ("G123456(A)", "G123456(A)"),        # check value 10 is written A
    ("E364912(5)", "E364912(5)"),
    ("D288754(2)", "D288754(2)"),
    ("AB987654(3)", "AB987654(3)"),      # two letters
    ("AB123456(9)", "AB123456(9)"),
])
def test_valid_hkid(raw: str, clean: str) -> None:
    assert clean_hkid(raw) == clean


@pytest.mark.parametrize(("raw", "key"), [
    ("A123456(4)", "err.id_checksum"),
    ("G123456(0)", "err.id_checksum"),
    ("AB987654(2)", "err.id_checksum"),
    ("A12345(3)", "err.hkid_format"),     # five digits
    ("ABC123456(3)", "err.hkid_format"),  # three letters
    ("1234567(3)", "err.hkid_format"),
    ("A123456(B)", "err.hkid_format"),    # only 0-9 and A are check characters
    ("", "err.hkid_format"),
])
def test_invalid_hkid(raw: str, key: str) -> None:
    with pytest.raises(Invalid) as caught:
        clean_hkid(raw)
    assert caught.value.key == key


def test_hkid_check_digit_arithmetic() -> None:
    # 36*9 + 10*8 + 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2 = 481; 481 % 11 = 8; 11 - 8 = 3
    assert hkid_check_digit("A", "123456") == "3"
    assert hkid_check_digit("AB", "987654") == "3"
    assert hkid_check_digit("G", "123456") == "A"


def test_valid_cn_ric() -> None:
    assert clean_cn_ric("11010519491231002x") == "11010519491231002X"
    assert clean_cn_ric("110105 19491231 002X") == "11010519491231002X"


@pytest.mark.parametrize(("raw", "key"), [
    ("110105194912310021", "err.id_checksum"),   # wrong check character
    ("110105194913310021", "err.ric_format"),    # month 13 (check character right for it)
    ("1101051949123100", "err.ric_format"),      # too short
    ("990105194912310023", "err.ric_format"),    # no such region (check character right for it)
])
def test_invalid_cn_ric(raw: str, key: str) -> None:
    with pytest.raises(Invalid) as caught:
        clean_cn_ric(raw)
    assert caught.value.key == key


def test_id_number_by_type() -> None:
    assert clean_id_number("hkid", "a123456(3)") == "A123456(3)"
    assert clean_id_number("cn_ric", "11010519491231002x") == "11010519491231002X"
    with pytest.raises(Invalid):
        clean_id_number("passport", "E12345678")


def test_uscc() -> None:
    assert clean_uscc("91110000600037341L") == "91110000600037341L"
    assert clean_uscc(" 91110000 600037341l ") == "91110000600037341L"
    with pytest.raises(Invalid) as caught:
        clean_uscc("91110000600037341M")
    assert caught.value.key == "err.uscc_checksum"
    with pytest.raises(Invalid) as caught:
        clean_uscc("9111000060003734")
    assert caught.value.key == "err.uscc_format"


def test_masks_show_only_the_ends() -> None:
    assert mask_id_number("A123456(3)") == "A******(3)"
    assert mask_id_number("11010519491231002X") == "1****************X"
    assert mask_bank_account("012345678901") == "•••• 8901"


def test_phone_email_contact_domain_bank() -> None:
    assert clean_phone("9123 4567") == "+85291234567"
    assert clean_phone("+86 131 2345 6789") == "+8613123456789"
    with pytest.raises(Invalid):
        clean_phone("12345")
    assert clean_email("Chan@Example.COM") == "Chan@example.com"
    with pytest.raises(Invalid):
        clean_email("not an email")
    assert clean_contact("lee@example.com") == "lee@example.com"
    assert clean_contact("2123 4567") == "+85221234567"
    assert clean_domain("https://Example.com.hk/") == "example.com.hk"
    assert clean_domain("例子.香港") == "xn--fsqu00a.xn--j6w193g"
    with pytest.raises(Invalid):
        clean_domain("localhost")
    assert clean_bank_account("012-345-678901") == "012345678901"
    for bad in ("1234567", "12345678901234567890123", "ABCD12345678"):
        with pytest.raises(Invalid):
            clean_bank_account(bad)
