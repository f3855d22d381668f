from __future__ import annotations

import hashlib
import json
import re

from charter.policy.hashing import canonical_json, content_hash
from tests.policy.policies import edit, load, minimal, minimal_data, minimal_text, policy_from

REORDERED = """
clauses:
  - body: {en: We collect your **email address**., zh: 我们收集您的**电子邮箱**。}
    title: {en: What we collect, zh: 我们收集的信息}
    id: "1"
  - {id: "2", body: {en: Write to us., zh: 请写信给我们。}, title: {en: Contact us, zh: 联系我们}}
refusal_grounds: [national_security]
rights:
  - {channels: [self_service, email], right: access}
  - {channels: [email], right: erasure}
recipients:
  - agreement_on_file: true
    region: CN
    categories: [contact.email]
    purposes: [marketing]
    method: {en: Sends email on our behalf, zh: 代为发送邮件}
    contact: "dpo@mailer.example"
    role: processor
    name: {en: Mail provider, zh: 邮件服务商}
    id: mailer
purposes:
  - {id: account, label: {en: Account, zh: 账户}, description: {en: Register and log in, zh: 注册和登录},
     legal_basis: contract, is_essential: true, consent: none, categories: [contact.email],
     retention: {after_days: 30, while: account_active,
                 text: {en: While the account exists and 30 days after, zh: 账户存续期间及其后30天}}}
  - id: marketing
    retention: {days: 365, text: {en: One year, zh: 一年}}
    categories: [contact.email]
    consent: general
    is_essential: false
    legal_basis: consent
    description: {en: Send product news, zh: 发送产品信息}
    label: {en: Marketing email, zh: 营销邮件}
  - id: payouts
    retention: {while: purpose_active, text: {en: While payouts run, zh: 付款期间}}
    categories: [finance.bank_account]
    consent: separate
    is_essential: false
    legal_basis: consent
    description: {en: Pay you, zh: 向您付款}
    label: {en: Payouts, zh: 付款}
categories:
  - {id: contact.email, label: {en: Email address, zh: 电子邮箱}}
  - {sensitivity_basis: "PIPL art. 28 (financial accounts)", is_sensitive: true,
     label: {en: Bank account, zh: 银行账户}, id: finance.bank_account}
minors: {age_threshold: 14, policy: guardian_consent}
cross_border: {bases: [legal_requirement, explicit_consent]}
storage_regions: [CN]
jurisdictions: [CN]
languages: [zh-CN, en]
effective: "2024-01-01"
version: '1.0'
controller:
  contacts: [{value: privacy@acme.example, label: {en: Complaints, zh: 投诉邮箱}, kind: complaints}]
  website: "https://acme.example"
  address: {en: "1 Example Road, Shanghai", zh: 上海市示例路1号}
  name: {en: Acme Ltd, zh: 示例公司}
  id: acme
schema: charter.policy/v1
"""


def test_the_hash_is_sha256_of_canonical_json() -> None:
    policy = minimal()
    digest = content_hash(policy)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    document = policy.model_dump(mode="json", by_alias=True)
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_json(policy) == expected
    assert digest == "sha256:" + hashlib.sha256(expected).hexdigest()


def test_the_hash_ignores_key_order_quoting_flow_style_and_comments() -> None:
    assert content_hash(load(REORDERED).policy) == content_hash(minimal())


def test_the_hash_is_stable_across_a_round_trip() -> None:
    policy = minimal()
    assert content_hash(policy_from(policy.model_dump(mode="json", by_alias=True))) == content_hash(policy)


def test_any_change_of_content_changes_the_hash() -> None:
    base = content_hash(minimal())
    assert content_hash(load(edit(minimal_text(), ("en: One year}", "en: One year.}"))).policy) != base
    data = minimal_data()
    data["purposes"].reverse()
    assert content_hash(policy_from(data)) != base


def test_canonical_json_keeps_chinese_as_utf8() -> None:
    assert "示例公司".encode() in canonical_json(minimal())
    assert b"\\u" not in canonical_json(minimal())
