"""The terms a consent is given under: the published policy versions, the one in force, and, per purpose, the
version from which older consents no longer count (a material change needing fresh consent took effect).

Pure: built from policy versions already loaded, no I/O. Versions are ordered by effective date then publication,
as `PolicyStore.in_force` orders them; a consent records the content hash of its version, and that hash's
position in this order (its *ordinal*) is what decisions compare: a consent for purpose P counts only if its
ordinal is at least `required_ordinal[P]`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from charter.core.errors import CharterError, NotFound
from charter.core.i18n import Lang
from charter.policy.diff import Materiality, diff_policies
from charter.policy.schema import WHOLE_POLICY, ConsentKind, CookieCategory, LegalBasis, PolicyVersion, Purpose

__all__ = ["PolicyTerms", "VersionRef", "offers_consent", "policy_terms", "strength"]

_STRENGTH = {ConsentKind.NONE: 0, ConsentKind.GENERAL: 1, ConsentKind.SEPARATE: 2, ConsentKind.WRITTEN: 3,
             ConsentKind.GUARDIAN: 3}


def strength(kind: ConsentKind) -> int:
    """How strong a consent kind is; a consent of a weaker kind than a purpose asks for does not count."""
    return _STRENGTH[kind]


def offers_consent(purpose: Purpose) -> bool:
    """Whether a person can give or refuse consent for the purpose.

    A purpose resting on consent always; a non-essential purpose that sets cookies too, even on another legal
    basis, because non-essential cookies are set only after consent (LAN-COOKIES; REGULATIONS.md, cookies).
    """
    if purpose.consent is not ConsentKind.NONE:
        return True
    return (purpose.cookie_category not in (None, CookieCategory.STRICTLY_NECESSARY)
            and not purpose.is_essential)


def asked_kind(purpose: Purpose) -> ConsentKind:
    """The consent kind the purpose asks for; a cookie choice on another basis is a general consent."""
    return purpose.consent if purpose.consent is not ConsentKind.NONE else ConsentKind.GENERAL


@dataclass(frozen=True)
class VersionRef:
    version: str
    content_hash: str
    effective: dt.date
    ordinal: int


@dataclass(frozen=True)
class PolicyTerms:
    in_force: PolicyVersion
    current: VersionRef
    versions: Mapping[str, VersionRef]
    """Every published version by label, including those not yet in force."""
    ordinals: Mapping[str, int]
    """Content hash → ordinal."""
    required_ordinal: Mapping[str, int]
    """Purpose id → the ordinal of the latest version in force that asked for fresh consent for it; under
    `WHOLE_POLICY`, of the latest that asked for the policy to be accepted again (any change needing fresh
    consent)."""
    reconsent_rules: Mapping[str, str] = field(default_factory=dict)
    """Purpose id → why fresh consent was asked (the diff's rule), for the host and the banner."""
    next_change: dt.date | None = None
    """The effective date of the next published version, when these terms stop being current."""

    @cached_property
    def purposes(self) -> Mapping[str, Purpose]:
        return {p.id: p for p in self.in_force.purposes}

    @cached_property
    def jurisdiction_codes(self) -> tuple[str, ...]:
        return tuple(j.value for j in self.in_force.jurisdictions)

    @cached_property
    def default_language(self) -> str:
        return Lang.parse(self.in_force.languages[0]).value

    def version(self, label: str | None, *, field_name: str = "policy_version") -> VersionRef:
        if label is None:
            return self.current
        ref = self.versions.get(label)
        if ref is None:
            raise NotFound(f"no published policy version {label!r}", field=field_name,
                           fix=f"Use a published version; the one in force is {self.current.version!r}.")
        return ref

    def ordinal_of(self, content_hash: str) -> int:
        """-1 for a hash of no published version: such a consent never counts."""
        return self.ordinals.get(content_hash, -1)

    def needs_reconsent(self, purpose_id: str, content_hash: str) -> bool:
        return self.ordinal_of(content_hash) < self.required_ordinal.get(purpose_id, 0)

    def purpose(self, purpose_id: str, *, field_name: str = "purpose") -> Purpose:
        found = self.purposes.get(purpose_id)
        if found is None:
            known = ", ".join(p.id for p in self.in_force.purposes)
            raise CharterError(f"the policy in force has no purpose {purpose_id!r}", field=field_name,
                               fix=f"Use one of: {known}.")
        return found


def policy_terms(published: Sequence[tuple[PolicyVersion, str]], today: dt.date) -> PolicyTerms:
    """Terms from every published version and its content hash, in effective order (oldest first)."""
    ordered = sorted(enumerate(published), key=lambda item: (item[1][0].effective, item[0]))
    refs = [VersionRef(p.version, h, p.effective, n) for n, (_i, (p, h)) in enumerate(ordered)]
    in_force = [n for n, ref in enumerate(refs) if ref.effective <= today]
    if not in_force:
        raise NotFound(f"no policy version is in force on {today.isoformat()}",
                       fix="Publish one with `charter policy publish FILE --controller ID`.")
    current = in_force[-1]
    required: dict[str, int] = {}
    rules: dict[str, str] = {}
    policies = [policy for _i, (policy, _hash) in ordered]
    for n in range(1, current + 1):
        for change in diff_policies(policies[n - 1], policies[n]).changes:
            if change.materiality is Materiality.NEEDS_FRESH_CONSENT:
                # Any change needing fresh consent also asks for the policy to be accepted again as a whole
                # (LUB-ACCEPT); one naming no purpose asks only that.
                for purpose_id in (*change.purposes, WHOLE_POLICY):
                    if required.get(purpose_id) != n:
                        required[purpose_id], rules[purpose_id] = n, change.rule
    later = [ref.effective for ref in refs[current + 1:]]
    return PolicyTerms(
        in_force=policies[current], current=refs[current], versions={r.version: r for r in refs},
        ordinals={r.content_hash: r.ordinal for r in refs}, required_ordinal=required, reconsent_rules=rules,
        next_change=min(later) if later else None)


def relies_on_consent(purpose: Purpose) -> bool:
    return purpose.legal_basis is LegalBasis.CONSENT
