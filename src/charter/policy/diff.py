"""The materiality diff: every change between two policy versions, and whether people must consent again.

PIPL art. 14 asks for fresh consent when the purpose, method or categories of processing change; Lubpur's
policy adds that rights are never reduced without explicit consent (LUB-CHANGE) and Landups' that new uses need
consent again (LAN-NEW-PURPOSE). Every change is listed with the rule that decided its materiality, so the
re-consent prompt and the change notice can both say why.

Paths name entries by id, not position, because positions shift between versions: `purposes[marketing]`,
`recipients[mailer].categories`, `categories[contact.phone].label`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel

from charter.core.i18n import Text
from charter.jurisdictions import LegalBasis as BasisRule
from charter.policy.schema import (
    Category,
    Clause,
    ConsentKind,
    Contact,
    LegalBasis,
    LegalException,
    PolicyVersion,
    Purpose,
    Recipient,
    Retention,
    Right,
    RightOffer,
)

__all__ = ["Change", "ChangeKind", "Materiality", "PolicyDiff", "diff_policies", "is_retention_longer"]


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Materiality(StrEnum):
    NEEDS_FRESH_CONSENT = "needs_fresh_consent"
    NOTICE_ONLY = "notice_only"


@dataclass(frozen=True)
class Change:
    """One difference. `purposes` names the purposes whose consents must be asked for again.

    A change that needs fresh consent but names no purpose (a right removed from a policy with no consent-based
    purpose) asks for acceptance of the new version as a whole (LUB-ACCEPT).
    """

    path: str
    kind: ChangeKind
    summary: Text
    materiality: Materiality
    rule: str
    purposes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyDiff:
    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def needs_fresh_consent(self) -> bool:
        return any(c.materiality is Materiality.NEEDS_FRESH_CONSENT for c in self.changes)

    def purposes_needing_consent(self) -> tuple[str, ...]:
        """Purpose ids whose consents need renewal, each once, in the order the changes name them."""
        seen: dict[str, None] = {}
        for change in self.changes:
            if change.materiality is Materiality.NEEDS_FRESH_CONSENT:
                seen.update(dict.fromkeys(change.purposes))
        return tuple(seen)


def diff_policies(old: PolicyVersion, new: PolicyVersion) -> PolicyDiff:
    """Every change from `old` to `new`, in policy order; `diff_policies(p, p).changes` is empty.

    For a new version that adds a consent-based purpose `marketing`, `purposes_needing_consent()` is
    `("marketing",)` and `needs_fresh_consent` is true.
    """
    ctx = _Context(old, new)
    changes = [change for part in _PARTS for change in part(ctx)]
    return PolicyDiff(old.version, new.version, tuple(changes))


# --- rules -------------------------------------------------------------------------------------------------

NEW_CONSENT_PURPOSE = "new purpose relying on consent (PIPL art. 14; LUB-CONSENT-DURATION, LAN-NEW-PURPOSE)"
NEW_CATEGORY = "new category for an existing purpose relying on consent (PIPL art. 14)"
NEW_RECIPIENT = "new recipient (PIPL art. 23: separate consent to provide personal information to others)"
RECIPIENT_WIDENED = "recipient receives more purposes or categories (PIPL arts. 14, 23)"
CROSS_BORDER = "recipient region outside the storage regions: cross-border transfer (PIPL arts. 38-39)"
NEW_REGION = "new storage region (PIPL arts. 38-39; LUB-STORAGE-CN, LAN-STORAGE-HK)"
RIGHT_REDUCED = "reduced right (LUB-CHANGE: rights are never reduced without explicit consent; LAN-CHANGE)"
CONSENT_WEAKENED = "consent kind weakened (LUB-CHANGE: a reduced right)"
CONSENT_STRENGTHENED = "consent kind strengthened: consents on record are of the weaker kind (PIPL arts. 29, 31)"
RETENTION_LONGER = "retention lengthened for a purpose relying on consent (PIPL art. 14: a change of processing)"
BASIS_SWITCHED = "legal basis switched to or from consent (PIPL arts. 13, 14)"
MADE_PUBLIC = "purpose now makes personal information public (PIPL arts. 14, 25: separate consent)"
GROUND_ADDED = "new refusal ground: requests may be refused in more cases (reduced right, LUB-CHANGE)"
NOTICE = "notice only: people are told before it takes effect (LUB-CHANGE, LAN-CHANGE)"
CATEGORY_DECLARED = "category declared: notice only; consent is asked where a purpose starts using it"


def _basis_rule(basis: LegalBasis) -> str:
    return f"on legal basis {basis} ({BasisRule(basis.value).citation}): notice only, no consent is asked"


# --- building blocks ---------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)
Consents = Sequence[str] | None
"""The purposes whose consents need renewal; None for a notice-only change."""
ValueRule = Callable[[ChangeKind, str], tuple[str, Consents]]


@dataclass(frozen=True)
class _Context:
    old: PolicyVersion
    new: PolicyVersion

    @property
    def consent_purposes(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.new.purposes if _relies_on_consent(p))


def _change(path: str, kind: ChangeKind, summary: Text, rule: str, purposes: Consents = None) -> Change:
    """A change that needs fresh consent when `purposes` is given (even empty), else notice only."""
    if purposes is None:
        return Change(path, kind, summary, Materiality.NOTICE_ONLY, rule)
    return Change(path, kind, summary, Materiality.NEEDS_FRESH_CONSENT, rule, tuple(purposes))


def _relies_on_consent(purpose: Purpose) -> bool:
    return purpose.legal_basis is LegalBasis.CONSENT


def _label(field: str) -> Text:
    return _FIELD_NAMES.get(field, Text(field, field.replace("_", " ")))


def _field_summary(owner: Text, field: str, old: object, new: object) -> Text:
    label = _label(field)
    detail = f" ({_show(old)} → {_show(new)})" if _is_short(old) and _is_short(new) else ""
    return Text(f"{owner.zh}：{label.zh}已修改{detail}", f"{owner.en}: {label.en} changed{detail}")


def _is_short(value: object) -> bool:
    return value is None or isinstance(value, str | int | dt.date)


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _notice(*_: object) -> tuple[str, Consents]:
    return NOTICE, None


def _diff_values(
    path: str, owner: Text, old: Sequence[str], new: Sequence[str], rule: ValueRule = _notice
) -> Iterator[Change]:
    """Changes between two lists of plain values: each added, each removed, and a change of order."""
    label = _label(path.rsplit(".", 1)[-1])
    for value in [v for v in dict.fromkeys(new) if v not in old]:
        why, purposes = rule(ChangeKind.ADDED, value)
        summary = Text(f"{owner.zh}：新增{label.zh} {value}", f"{owner.en}: added {label.en} {value}")
        yield _change(path, ChangeKind.ADDED, summary, why, purposes)
    for value in [v for v in dict.fromkeys(old) if v not in new]:
        why, purposes = rule(ChangeKind.REMOVED, value)
        summary = Text(f"{owner.zh}：移除{label.zh} {value}", f"{owner.en}: removed {label.en} {value}")
        yield _change(path, ChangeKind.REMOVED, summary, why, purposes)
    if set(old) == set(new) and list(old) != list(new):
        summary = Text(
            f"{owner.zh}：{label.zh}的顺序或重复项已修改", f"{owner.en}: order or repetition of {label.en} changed"
        )
        yield _change(path, ChangeKind.CHANGED, summary, NOTICE)


def _plain_fields(
    path: str, owner: Text, old: BaseModel, new: BaseModel, skip: frozenset[str] = frozenset()
) -> Iterator[Change]:
    """A notice-only change per differing field not in `skip` (those have rules of their own)."""
    for name, info in type(old).model_fields.items():
        before, after = getattr(old, name), getattr(new, name)
        if name in skip or before == after:
            continue
        field_path = f"{path}.{info.alias or name}" if path else info.alias or name
        if isinstance(before, list) and all(isinstance(v, str) for v in [*before, *after]):
            yield from _diff_values(field_path, owner, before, after)
        else:
            summary = _field_summary(owner, info.alias or name, before, after)
            yield _change(field_path, ChangeKind.CHANGED, summary, NOTICE)


def _diff_keyed(
    path: str,
    pair: tuple[Sequence[M], Sequence[M]],
    key: Callable[[M], str],
    describe: Callable[[M], Text],
    on_changed: Callable[[str, M, M], Iterator[Change]],
    *,
    added: Callable[[M], tuple[str, Consents]] = _notice,
    removed: Callable[[M], tuple[str, Consents]] = _notice,
) -> Iterator[Change]:
    """Changes between two lists of entries matched by key: added, changed, removed, and a change of order."""
    before, after = _keyed(pair[0], key), _keyed(pair[1], key)
    for item_key, item in after.items():
        if item_key not in before:
            rule, purposes = added(item)
            summary = Text(f"新增{describe(item).zh}", f"Added {describe(item).en}")
            yield _change(f"{path}[{item_key}]", ChangeKind.ADDED, summary, rule, purposes)
        elif before[item_key] != item:
            yield from on_changed(f"{path}[{item_key}]", before[item_key], item)
    for item_key, item in before.items():
        if item_key not in after:
            rule, purposes = removed(item)
            summary = Text(f"移除{describe(item).zh}", f"Removed {describe(item).en}")
            yield _change(f"{path}[{item_key}]", ChangeKind.REMOVED, summary, rule, purposes)
    if _order_changed(list(before), list(after)):
        section = _label(path.rsplit(".", 1)[-1])
        summary = Text(f"{section.zh}的顺序已调整", f"Order of {section.en} changed")
        yield _change(path, ChangeKind.CHANGED, summary, NOTICE)


def _keyed(items: Sequence[M], key: Callable[[M], str]) -> dict[str, M]:
    """Entries by key; a repeated key (a policy that fails check #1) gets `#2`, `#3` … so nothing is lost."""
    keyed: dict[str, M] = {}
    for item in items:
        item_key, n = key(item), 1
        while item_key in keyed:
            n += 1
            item_key = f"{key(item)}#{n}"
        keyed[item_key] = item
    return keyed


def _order_changed(before: list[str], after: list[str]) -> bool:
    return [k for k in before if k in after] != [k for k in after if k in before]


# --- the policy as a whole ---------------------------------------------------------------------------------

_POLICY = Text("本政策", "policy")


def _header(ctx: _Context) -> Iterator[Change]:
    old, new = ctx.old, ctx.new
    for name in ("version", "effective"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            yield _change(name, ChangeKind.CHANGED, _field_summary(_POLICY, name, before, after), NOTICE)
    yield from _diff_values("languages", _POLICY, old.languages, new.languages)
    yield from _diff_values("jurisdictions", _POLICY, old.jurisdictions, new.jurisdictions)
    yield from _plain_fields("minors", _label("minors"), old.minors, new.minors)
    yield from _plain_fields("cross_border", _label("cross_border"), old.cross_border, new.cross_border)


def _regions(ctx: _Context) -> Iterator[Change]:
    def rule(kind: ChangeKind, region: str) -> tuple[str, Consents]:
        return (NEW_REGION, ctx.consent_purposes) if kind is ChangeKind.ADDED else (NOTICE, None)

    yield from _diff_values("storage_regions", _POLICY, ctx.old.storage_regions, ctx.new.storage_regions, rule)


def _controller(ctx: _Context) -> Iterator[Change]:
    old, new = ctx.old.controller, ctx.new.controller
    owner = _label("controller")
    yield from _plain_fields("controller", owner, old, new, skip=frozenset({"contacts"}))
    yield from _diff_keyed(
        "controller.contacts",
        (old.contacts, new.contacts),
        lambda c: f"{c.kind}:{c.value}",
        _describe_contact,
        lambda path, a, b: _plain_fields(path, _describe_contact(b), a, b),
    )


def _describe_contact(contact: Contact) -> Text:
    return Text(f"联系方式“{contact.label.zh}” {contact.value}", f"contact “{contact.label.en}” {contact.value}")


def _refusal_grounds(ctx: _Context) -> Iterator[Change]:
    def rule(kind: ChangeKind, code: str) -> tuple[str, Consents]:
        return (GROUND_ADDED, ctx.consent_purposes) if kind is ChangeKind.ADDED else (NOTICE, None)

    yield from _diff_values("refusal_grounds", _POLICY, ctx.old.refusal_grounds, ctx.new.refusal_grounds, rule)


# --- categories, purposes ----------------------------------------------------------------------------------


def _describe_category(category: Category) -> Text:
    return Text(f"数据类别“{category.label.zh}”（{category.id}）", f"category “{category.label.en}” ({category.id})")


def _categories(ctx: _Context) -> Iterator[Change]:
    yield from _diff_keyed(
        "categories",
        (ctx.old.categories, ctx.new.categories),
        lambda c: c.id,
        _describe_category,
        lambda path, a, b: _plain_fields(path, _describe_category(b), a, b),
        added=lambda c: (CATEGORY_DECLARED, None),
    )


def _describe_purpose(purpose: Purpose) -> Text:
    return Text(f"处理目的“{purpose.label.zh}”", f"purpose “{purpose.label.en}”")


def _purposes(ctx: _Context) -> Iterator[Change]:
    yield from _diff_keyed(
        "purposes",
        (ctx.old.purposes, ctx.new.purposes),
        lambda p: p.id,
        _describe_purpose,
        _purpose,
        added=_purpose_added,
    )


def _purpose_added(purpose: Purpose) -> tuple[str, Consents]:
    if _relies_on_consent(purpose):
        return NEW_CONSENT_PURPOSE, (purpose.id,)
    return f"new purpose {_basis_rule(purpose.legal_basis)}", None


_PURPOSE_RULED = frozenset({"categories", "legal_basis", "consent", "retention", "is_public_disclosure"})


def _purpose(path: str, old: Purpose, new: Purpose) -> Iterator[Change]:
    owner = _describe_purpose(new)
    yield from _purpose_categories(path, owner, old, new)
    yield from _purpose_basis(path, owner, old, new)
    yield from _purpose_consent(path, owner, old, new)
    yield from _purpose_retention(path, owner, old, new)
    yield from _purpose_public(path, owner, old, new)
    yield from _plain_fields(path, owner, old, new, skip=_PURPOSE_RULED)


def _purpose_categories(path: str, owner: Text, old: Purpose, new: Purpose) -> Iterator[Change]:
    def rule(kind: ChangeKind, category: str) -> tuple[str, Consents]:
        if kind is ChangeKind.REMOVED:
            return NOTICE, None
        if _relies_on_consent(new):
            return NEW_CATEGORY, (new.id,)
        return f"new category for a purpose {_basis_rule(new.legal_basis)}", None

    yield from _diff_values(f"{path}.categories", owner, old.categories, new.categories, rule)


def _purpose_basis(path: str, owner: Text, old: Purpose, new: Purpose) -> Iterator[Change]:
    if old.legal_basis == new.legal_basis:
        return
    summary = _field_summary(owner, "legal_basis", old.legal_basis, new.legal_basis)
    if _relies_on_consent(old) != _relies_on_consent(new):
        yield _change(f"{path}.legal_basis", ChangeKind.CHANGED, summary, BASIS_SWITCHED, (new.id,))
    else:
        rule = f"legal basis changed, now {_basis_rule(new.legal_basis)}"
        yield _change(f"{path}.legal_basis", ChangeKind.CHANGED, summary, rule)


_CONSENT_STRENGTH = {
    ConsentKind.NONE: 0,
    ConsentKind.GENERAL: 1,
    ConsentKind.SEPARATE: 2,
    ConsentKind.WRITTEN: 3,
    ConsentKind.GUARDIAN: 3,
}


def _purpose_consent(path: str, owner: Text, old: Purpose, new: Purpose) -> Iterator[Change]:
    if old.consent == new.consent:
        return
    summary = _field_summary(owner, "consent", old.consent, new.consent)
    step = _CONSENT_STRENGTH[new.consent] - _CONSENT_STRENGTH[old.consent]
    if not _relies_on_consent(new) or step == 0:
        yield _change(f"{path}.consent", ChangeKind.CHANGED, summary, NOTICE)
    else:
        rule = CONSENT_WEAKENED if step < 0 else CONSENT_STRENGTHENED
        yield _change(f"{path}.consent", ChangeKind.CHANGED, summary, rule, (new.id,))


_WHILE_LENGTH = {None: 0, "purpose_active": 1, "account_active": 2}


def is_retention_longer(old: Retention, new: Retention) -> bool:
    """Whether `new` may keep data longer than `old`; a change that might be longer counts as longer."""
    if _WHILE_LENGTH[new.while_] > _WHILE_LENGTH[old.while_]:
        return True
    if old.days is not None and (new.days is None or new.days > old.days):
        return True
    return (new.after_days or 0) > (old.after_days or 0)


def _purpose_retention(path: str, owner: Text, old: Purpose, new: Purpose) -> Iterator[Change]:
    if old.retention == new.retention:
        return
    summary = Text(
        f"{owner.zh}：保存期限由“{old.retention.text.zh}”改为“{new.retention.text.zh}”",
        f"{owner.en}: retention changed from “{old.retention.text.en}” to “{new.retention.text.en}”",
    )
    if not is_retention_longer(old.retention, new.retention):
        rule, purposes = f"retention shortened or reworded: {NOTICE}", None
    elif _relies_on_consent(new):
        rule, purposes = RETENTION_LONGER, (new.id,)
    else:
        rule, purposes = f"retention lengthened for a purpose {_basis_rule(new.legal_basis)}", None
    yield _change(f"{path}.retention", ChangeKind.CHANGED, summary, rule, purposes)


def _purpose_public(path: str, owner: Text, old: Purpose, new: Purpose) -> Iterator[Change]:
    if old.is_public_disclosure == new.is_public_disclosure:
        return
    summary = _field_summary(owner, "is_public_disclosure", old.is_public_disclosure, new.is_public_disclosure)
    if new.is_public_disclosure:
        yield _change(f"{path}.is_public_disclosure", ChangeKind.CHANGED, summary, MADE_PUBLIC, (new.id,))
    else:
        yield _change(f"{path}.is_public_disclosure", ChangeKind.CHANGED, summary, NOTICE)


# --- recipients --------------------------------------------------------------------------------------------


def _describe_recipient(recipient: Recipient) -> Text:
    return Text(f"接收方“{recipient.name.zh}”", f"recipient “{recipient.name.en}”")


def _recipients(ctx: _Context) -> Iterator[Change]:
    yield from _diff_keyed(
        "recipients",
        (ctx.old.recipients, ctx.new.recipients),
        lambda r: r.id,
        _describe_recipient,
        lambda path, old, new: _recipient(ctx, path, old, new),
        added=lambda r: (NEW_RECIPIENT, r.purposes),
    )


def _recipient(ctx: _Context, path: str, old: Recipient, new: Recipient) -> Iterator[Change]:
    owner = _describe_recipient(new)

    def widened(kind: ChangeKind, value: str) -> tuple[str, Consents]:
        return (RECIPIENT_WIDENED, new.purposes) if kind is ChangeKind.ADDED else (NOTICE, None)

    yield from _diff_values(f"{path}.purposes", owner, old.purposes, new.purposes, widened)
    yield from _diff_values(f"{path}.categories", owner, old.categories, new.categories, widened)
    if old.region != new.region:
        summary = _field_summary(owner, "region", old.region, new.region)
        if new.region in ctx.new.storage_regions:
            yield _change(f"{path}.region", ChangeKind.CHANGED, summary, NOTICE)
        else:
            yield _change(f"{path}.region", ChangeKind.CHANGED, summary, CROSS_BORDER, new.purposes)
    ruled = frozenset({"purposes", "categories", "region"})
    yield from _plain_fields(path, owner, old, new, skip=ruled)


# --- rights, legal exceptions, clauses ---------------------------------------------------------------------

_RIGHT_NAMES = {
    Right.ACCESS: Text("查阅权", "right of access"),
    Right.COPY: Text("复制权", "right to a copy"),
    Right.PORTABILITY: Text("可携带权", "right to portability"),
    Right.RECTIFICATION: Text("更正、补充权", "right to rectification"),
    Right.ERASURE: Text("删除权", "right to erasure"),
    Right.RESTRICTION: Text("限制处理权", "right to restriction"),
    Right.WITHDRAWAL: Text("撤回同意权", "right to withdraw consent"),
    Right.CANCELLATION: Text("注销账户权", "right to cancel the account"),
    Right.EXPLANATION: Text("要求解释说明权", "right to an explanation"),
    Right.COMPLAINT: Text("投诉权", "right to complain"),
}


def _rights(ctx: _Context) -> Iterator[Change]:
    def reduced(item: object) -> tuple[str, Consents]:
        return RIGHT_REDUCED, ctx.consent_purposes

    def changed(path: str, old: RightOffer, new: RightOffer) -> Iterator[Change]:
        def channel(kind: ChangeKind, value: str) -> tuple[str, Consents]:
            return reduced(value) if kind is ChangeKind.REMOVED else (NOTICE, None)

        owner = _RIGHT_NAMES[new.right]
        yield from _diff_values(f"{path}.channels", owner, old.channels, new.channels, channel)
        yield from _plain_fields(path, owner, old, new, skip=frozenset({"channels"}))

    yield from _diff_keyed(
        "rights",
        (ctx.old.rights, ctx.new.rights),
        lambda r: r.right.value,
        lambda r: _RIGHT_NAMES[r.right],
        changed,
        removed=reduced,
    )


def _describe_exception(exception: LegalException) -> Text:
    return Text(f"无需同意的情形“{exception.label.zh}”", f"case without consent “{exception.label.en}”")


def _legal_exceptions(ctx: _Context) -> Iterator[Change]:
    yield from _diff_keyed(
        "legal_exceptions",
        (ctx.old.legal_exceptions, ctx.new.legal_exceptions),
        lambda e: e.id,
        _describe_exception,
        lambda path, a, b: _plain_fields(path, _describe_exception(b), a, b),
    )


def _describe_clause(clause: Clause) -> Text:
    return Text(f"条款 {clause.id}“{clause.title.zh}”", f"clause {clause.id} “{clause.title.en}”")


def _clauses(ctx: _Context) -> Iterator[Change]:
    yield from _diff_keyed(
        "clauses",
        (ctx.old.clauses, ctx.new.clauses),
        lambda c: c.id,
        _describe_clause,
        lambda path, a, b: _plain_fields(path, _describe_clause(b), a, b),
    )


_PARTS: tuple[Callable[[_Context], Iterator[Change]], ...] = (
    _header,
    _controller,
    _regions,
    _categories,
    _purposes,
    _recipients,
    _rights,
    _refusal_grounds,
    _legal_exceptions,
    _clauses,
)

_FIELD_NAMES: dict[str, Text] = {
    "version": Text("版本", "version"),
    "effective": Text("生效日期", "effective date"),
    "languages": Text("语言", "language"),
    "jurisdictions": Text("适用法域", "jurisdiction"),
    "storage_regions": Text("存储地区", "storage region"),
    "cross_border": Text("跨境提供", "cross-border transfer"),
    "bases": Text("跨境依据", "basis"),
    "impact_assessment_on_file": Text("影响评估", "impact assessment on file"),
    "minors": Text("未成年人规则", "minors' rules"),
    "policy": Text("处理方式", "policy"),
    "age_threshold": Text("年龄门槛", "age threshold"),
    "rules_text": Text("规则文本", "rules text"),
    "controller": Text("个人信息处理者", "controller"),
    "contacts": Text("联系方式", "contacts"),
    "name": Text("名称", "name"),
    "address": Text("地址", "address"),
    "website": Text("网站", "website"),
    "kind": Text("类型", "kind"),
    "value": Text("内容", "value"),
    "categories": Text("数据类别", "category"),
    "is_sensitive": Text("是否敏感", "sensitive"),
    "sensitivity_basis": Text("敏感依据", "sensitivity basis"),
    "purposes": Text("处理目的", "purpose"),
    "label": Text("名称", "label"),
    "description": Text("说明", "description"),
    "legal_basis": Text("法律依据", "legal basis"),
    "is_essential": Text("是否为基本功能所必需", "essential"),
    "consent": Text("同意方式", "consent kind"),
    "retention": Text("保存期限", "retention"),
    "cookie_category": Text("Cookie 类别", "cookie category"),
    "is_public_disclosure": Text("是否公开", "public disclosure"),
    "recipients": Text("接收方", "recipients"),
    "role": Text("角色", "role"),
    "contact": Text("联系方式", "contact"),
    "method": Text("处理方式", "method"),
    "region": Text("所在地区", "region"),
    "agreement_on_file": Text("数据保护协议", "agreement on file"),
    "is_example": Text("示例", "example"),
    "note": Text("备注", "note"),
    "rights": Text("权利", "rights"),
    "channels": Text("渠道", "channel"),
    "text": Text("说明", "text"),
    "refusal_grounds": Text("拒绝理由", "refusal ground"),
    "legal_exceptions": Text("无需同意的情形", "cases without consent"),
    "basis": Text("依据", "basis"),
    "clauses": Text("条款", "clauses"),
    "title": Text("标题", "title"),
    "body": Text("正文", "body"),
    "promises": Text("承诺", "promise"),
}
