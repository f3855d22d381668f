"""Decisions, the pure core: `decide(compiled policy, subject state, question, now) -> Decision`.

No I/O and no clock: the caller passes `now`. A policy is compiled once (`compile_policy`) into lookup tables;
a subject's state is what the ledger and the subject directory know of them. The answer says whether the
processing is allowed, the legal basis it rests on (PIPL art. 13; and which of the policy's own legal exceptions
when one applies), reason codes, obligations the host must follow, and whether the host should ask the person.

>>> decision = decide(compiled, state, Question("marketing_email", channel="email"), now)
>>> decision.allowed, decision.basis, decision.obligations
(True, 'consent', ('no_tracking', 'subject_prefix_ad', 'unsubscribe_link'))
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from charter.consent.models import ConsentStatus
from charter.consent.terms import PolicyTerms, strength
from charter.core.errors import CharterError
from charter.jurisdictions import minor_age
from charter.policy.schema import (
    ConsentKind,
    CookieCategory,
    CrossBorderBasis,
    JurisdictionCode,
    LegalBasis,
    MinorsPolicy,
    Purpose,
    Recipient,
    RecipientRole,
)

__all__ = [
    "CompiledPolicy",
    "ConsentView",
    "Decision",
    "Obligation",
    "Question",
    "QuestionKind",
    "Reason",
    "SubjectState",
    "compile_policy",
    "decide",
    "validate_question",
]

FOREVER = float("inf")
_REGION = re.compile(r"^[A-Z]{2}$")


class QuestionKind(StrEnum):
    USE = "use"
    """Use the person's data (optionally one category) for a purpose."""
    SHARE = "share"
    """Provide it to a recipient the policy declares."""
    TRANSFER = "transfer"
    """Send it to a region (or to a recipient in one)."""
    PUBLISH = "publish"
    """Make it public."""
    SENSITIVE = "sensitive"
    """Use a sensitive category (PIPL art. 28) for a purpose."""
    MINOR = "minor"
    """Process a minor's data for a purpose."""
    STORE = "store"
    """Keep what is already held: allowed even for a restricted subject (PIPL art. 47)."""
    SECURE = "secure"
    """A security measure under an essential, non-consent purpose: allowed even when restricted."""


class Reason(StrEnum):
    CONSENT = "consent"
    LEGAL_BASIS = "legal_basis"
    LEGAL_EXCEPTION = "legal_exception"
    ESSENTIAL_SERVICE = "essential_service"
    STORAGE_ONLY = "storage_only"
    SECURITY_MEASURE = "security_measure"
    NOT_A_SECURITY_PURPOSE = "not_a_security_purpose"
    NO_CONSENT = "no_consent"
    CONSENT_REFUSED = "consent_refused"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"
    NEEDS_RECONSENT = "needs_reconsent"
    SEPARATE_CONSENT_REQUIRED = "separate_consent_required"
    SUBJECT_RESTRICTED = "subject_restricted"
    ACCOUNT_SUSPENDED = "account_suspended"
    MINOR = "minor"
    NOT_A_MINOR = "not_a_minor"
    MINOR_REFUSED_BY_POLICY = "minor_refused_by_policy"
    GUARDIAN_CONSENT_REQUIRED = "guardian_consent_required"
    GUARDIAN_CONSENT = "guardian_consent"
    CATEGORY_NOT_IN_PURPOSE = "category_not_in_purpose"
    SENSITIVE_CATEGORY = "sensitive_category"
    RECIPIENT_NOT_FOR_PURPOSE = "recipient_not_for_purpose"
    RECIPIENT_RECORD_INCOMPLETE = "recipient_record_incomplete"
    RECIPIENT_NO_AGREEMENT = "recipient_no_agreement"
    CATEGORY_NOT_FOR_RECIPIENT = "category_not_for_recipient"
    ENTRUSTED_PROCESSING = "entrusted_processing"
    WITHIN_STORAGE_REGION = "within_storage_region"
    CROSS_BORDER_NO_MECHANISM = "cross_border_no_mechanism"
    CROSS_BORDER_NO_IMPACT_ASSESSMENT = "cross_border_no_impact_assessment"
    NOT_A_PUBLIC_DISCLOSURE_PURPOSE = "not_a_public_disclosure_purpose"


class Obligation(StrEnum):
    NO_TRACKING = "no_tracking"
    """No open pixel, no tracked links in this email (LUB-BEACONS)."""
    SUBJECT_PREFIX_AD = "subject_prefix_ad"
    """The subject line starts with 广告 or AD (CN Internet Email Services Measures)."""
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    """A one-click way to refuse in every message (Advertising Law art. 43; LUB-SUBSCRIBE)."""
    DEIDENTIFY = "deidentify"
    """Only de-identified data leaves (LUB-USE, LUB-DEIDENTIFIED)."""
    ENCRYPT = "encrypt"
    """Sensitive data: encrypted at rest and in transit (PIPL art. 51; GB/T 35273)."""
    LOG_DISCLOSURE = "log_disclosure"
    """Record the disclosure so it appears in the person's access export (LAN-SHARE)."""
    LOG_TRANSFER = "log_transfer"
    """Count the person in the year's cross-border transfers (PIPL art. 38; 2024 provisions)."""


class Question(NamedTuple):
    """What a host asks. A NamedTuple so it hashes in C: the in-process decider memoises on it."""

    purpose: str
    kind: str = QuestionKind.USE.value
    category: str | None = None
    recipient: str | None = None
    region: str | None = None
    channel: str | None = None
    """`email` for a message, `export` for data leaving in bulk: some obligations depend on it."""
    exception: str | None = None
    """The id of one of the policy's legal exceptions the host relies on instead of consent."""


class Decision(NamedTuple):
    allowed: bool
    basis: str | None
    exception: str | None
    reasons: tuple[str, ...]
    obligations: tuple[str, ...]
    ask_consent: bool
    """The host should ask the person (again): no consent yet, it expired, or a policy change needs fresh consent."""
    purpose: str
    is_logged: bool
    """Allowed non-essential processing (or an exception relied on): the decider logs it."""


class ConsentView(NamedTuple):
    status: str
    kind: str
    ordinal: int
    valid_until: float | None
    """Epoch seconds; None while not withdrawn."""
    record_id: str
    by_guardian: bool


@dataclass(frozen=True, slots=True)
class SubjectState:
    subject_id: str
    consents: Mapping[str, ConsentView] = field(default_factory=dict)
    is_restricted: bool = False
    is_suspended: bool = False
    minor_until: dt.date | None = None
    """The first day the person is certainly of age under the policy's threshold; None if unknown or adult."""
    has_guardian: bool = False

    def is_minor(self, today: dt.date) -> bool:
        return self.minor_until is not None and today < self.minor_until


@dataclass(frozen=True, slots=True)
class RecipientRule:
    id: str
    role: RecipientRole
    purposes: frozenset[str]
    categories: frozenset[str]
    region: str
    is_complete: bool
    """Name, contact, method, purposes and categories all present (PIPL art. 23)."""
    has_agreement: bool


@dataclass(frozen=True, slots=True)
class PurposeRule:
    id: str
    basis: LegalBasis
    is_essential: bool
    consent: ConsentKind
    categories: frozenset[str]
    cookie_category: CookieCategory | None
    is_public_disclosure: bool
    required_ordinal: int
    exception: str | None
    """The policy's legal exception that matches the basis, when exactly one does."""


_ART38_MECHANISMS = frozenset({CrossBorderBasis.CAC_SECURITY_ASSESSMENT, CrossBorderBasis.CERTIFICATION,
                               CrossBorderBasis.STANDARD_CONTRACT})
_MECHANISMS = _ART38_MECHANISMS | {CrossBorderBasis.LEGAL_REQUIREMENT}


@dataclass(frozen=True)
class CompiledPolicy:
    controller_id: str
    version: str
    content_hash: str
    terms: PolicyTerms
    purposes: Mapping[str, PurposeRule]
    recipients: Mapping[str, RecipientRule]
    sensitive: Mapping[str, bool]
    storage_regions: frozenset[str]
    mechanisms: frozenset[CrossBorderBasis]
    has_impact_assessment: bool
    refuses_minors: bool
    minor_threshold: int
    exceptions: Mapping[str, LegalBasis]
    is_cn: bool
    email_tracking: tuple[str, ...]
    valid_until: float
    """Epoch seconds at which the next published version takes effect (and this compilation is stale)."""


def compile_policy(controller_id: str, terms: PolicyTerms) -> CompiledPolicy:
    policy = terms.in_force
    exceptions = {e.id: e.basis for e in policy.legal_exceptions}
    by_basis: dict[LegalBasis, list[str]] = {}
    for exception_id, basis in exceptions.items():
        by_basis.setdefault(basis, []).append(exception_id)
    purposes = {p.id: _purpose_rule(p, terms, by_basis) for p in policy.purposes}
    threshold = max(policy.minors.age_threshold or 0, minor_age([j.value for j in policy.jurisdictions]))
    boundary = (dt.datetime.combine(terms.next_change, dt.time(), dt.UTC).timestamp()
                if terms.next_change else FOREVER)
    return CompiledPolicy(
        controller_id=controller_id, version=terms.current.version, content_hash=terms.current.content_hash,
        terms=terms, purposes=purposes, recipients={r.id: _recipient_rule(r) for r in policy.recipients},
        sensitive={c.id: c.is_sensitive for c in policy.categories},
        storage_regions=frozenset(policy.storage_regions),
        mechanisms=frozenset(policy.cross_border.bases) & _MECHANISMS,
        has_impact_assessment=policy.cross_border.impact_assessment_on_file,
        refuses_minors=policy.minors.policy is MinorsPolicy.REFUSE, minor_threshold=threshold,
        exceptions=exceptions, is_cn=JurisdictionCode.CN in policy.jurisdictions,
        email_tracking=tuple(p.id for p in policy.purposes if p.cookie_category is CookieCategory.EMAIL_TRACKING),
        valid_until=boundary)


def _purpose_rule(purpose: Purpose, terms: PolicyTerms, by_basis: Mapping[LegalBasis, list[str]]) -> PurposeRule:
    matching = by_basis.get(purpose.legal_basis, [])
    return PurposeRule(
        id=purpose.id, basis=purpose.legal_basis, is_essential=purpose.is_essential, consent=purpose.consent,
        categories=frozenset(purpose.categories), cookie_category=purpose.cookie_category,
        is_public_disclosure=purpose.is_public_disclosure, required_ordinal=terms.required_ordinal.get(purpose.id, 0),
        exception=matching[0] if len(matching) == 1 and purpose.legal_basis is not LegalBasis.CONSENT else None)


def _recipient_rule(recipient: Recipient) -> RecipientRule:
    complete = bool(recipient.name.zh.strip() and recipient.name.en.strip() and recipient.contact
                    and recipient.contact.strip() and recipient.method is not None and recipient.purposes
                    and recipient.categories)
    return RecipientRule(
        id=recipient.id, role=recipient.role, purposes=frozenset(recipient.purposes),
        categories=frozenset(recipient.categories), region=recipient.region, is_complete=complete,
        has_agreement=recipient.agreement_on_file or recipient.role is RecipientRole.AUTHORITY)


# --- validation --------------------------------------------------------------------------------------------


def _unknown(what: str, value: str, known: Mapping[str, object], field_name: str) -> CharterError:
    guess = difflib.get_close_matches(value, list(known), n=1)
    hint = f"Did you mean {guess[0]!r}? " if guess else ""
    return CharterError(f"the policy in force has no {what} {value!r}", field=field_name,
                        fix=f"{hint}Use one of: {', '.join(known) or '(none)'}.")


def validate_question(compiled: CompiledPolicy, q: Question) -> PurposeRule:
    """The purpose's rule, once every name in the question is known; else a `CharterError` naming the field."""
    if q.kind not in _KINDS:
        raise CharterError(f"unknown question kind {q.kind!r}", field="kind", fix=f"Use one of: {', '.join(_KINDS)}.")
    rule = compiled.purposes.get(q.purpose)
    if rule is None:
        raise _unknown("purpose", q.purpose, compiled.purposes, "purpose")
    if q.category is not None and q.category not in compiled.sensitive:
        raise _unknown("category", q.category, compiled.sensitive, "category")
    if q.recipient is not None and q.recipient not in compiled.recipients:
        raise _unknown("recipient", q.recipient, compiled.recipients, "recipient")
    if q.exception is not None and q.exception not in compiled.exceptions:
        raise _unknown("legal exception", q.exception, compiled.exceptions, "exception")
    if q.region is not None and not _REGION.match(q.region):
        raise CharterError(f"{q.region!r} is not a region code", field="region",
                           fix="Use an ISO 3166-1 alpha-2 code such as CN, HK, US.")
    _require(q.kind == QuestionKind.SHARE and q.recipient is None, "recipient", "a share question names the recipient")
    _require(q.kind == QuestionKind.TRANSFER and q.region is None and q.recipient is None, "region",
             "a transfer question names the region (or the recipient, whose region is used)")
    _require(q.kind == QuestionKind.SENSITIVE and q.category is None, "category",
             "a sensitive-data question names the category")
    return rule


def _require(is_missing: bool, field_name: str, message: str) -> None:
    if is_missing:
        raise CharterError(message, field=field_name, fix=f"Add `{field_name}` to the question.")


_KINDS = tuple(k.value for k in QuestionKind)


# --- deciding ----------------------------------------------------------------------------------------------


@dataclass
class _Answer:
    """A decision being worked out: denials accumulate; the first says most."""

    rule: PurposeRule
    basis: LegalBasis | None = None
    exception: str | None = None
    reasons: list[str] = field(default_factory=list)
    denials: list[str] = field(default_factory=list)
    obligations: list[str] = field(default_factory=list)
    ask: bool = False
    needs_strength: int = 0
    """Consent of at least this strength is needed whatever the purpose's basis (sharing, transfer, public)."""
    relies_on_exception: bool = False
    is_minor: bool = False

    def deny(self, reason: Reason, *, ask: bool = False) -> None:
        self.denials.append(reason.value)
        self.ask = self.ask or ask

    def done(self) -> Decision:
        allowed = not self.denials
        reasons = tuple(dict.fromkeys(self.denials if not allowed else self.reasons))
        logged = allowed and (not self.rule.is_essential or self.relies_on_exception)
        return Decision(allowed, self.basis.value if allowed and self.basis else None,
                        self.exception if allowed else None, reasons,
                        tuple(dict.fromkeys(self.obligations)) if allowed else (), self.ask and not allowed,
                        self.rule.id, logged)


def decide(compiled: CompiledPolicy, state: SubjectState, q: Question, now: float) -> Decision:
    """The answer to `q` for the subject in `state` at `now` (epoch seconds)."""
    rule = validate_question(compiled, q)
    answer = _Answer(rule)
    if q.kind in (QuestionKind.STORE, QuestionKind.SECURE):
        return _store_or_secure(answer, q)
    answer.is_minor = state.is_minor(dt.datetime.fromtimestamp(now, dt.UTC).date())
    _subject_gates(compiled, state, answer)
    _kind_rules(compiled, q, answer)
    _basis(compiled, state, q, answer, now)
    _obligations(compiled, state, q, answer, now)
    return answer.done()


def _store_or_secure(answer: _Answer, q: Question) -> Decision:
    rule = answer.rule
    if q.kind == QuestionKind.SECURE and (not rule.is_essential or rule.basis is LegalBasis.CONSENT):
        answer.deny(Reason.NOT_A_SECURITY_PURPOSE)
        return answer.done()
    answer.basis = rule.basis if rule.basis is not LegalBasis.CONSENT else LegalBasis.LEGAL_DUTY
    answer.exception = rule.exception
    answer.reasons.append((Reason.STORAGE_ONLY if q.kind == QuestionKind.STORE else Reason.SECURITY_MEASURE).value)
    return answer.done()


def _subject_gates(compiled: CompiledPolicy, state: SubjectState, answer: _Answer) -> None:
    if state.is_restricted:
        answer.deny(Reason.SUBJECT_RESTRICTED)
    if state.is_suspended and not answer.rule.is_essential:
        answer.deny(Reason.ACCOUNT_SUSPENDED)
    if answer.is_minor:
        answer.reasons.append(Reason.MINOR.value)
        if compiled.refuses_minors:
            answer.deny(Reason.MINOR_REFUSED_BY_POLICY)
        elif not state.has_guardian:
            answer.deny(Reason.GUARDIAN_CONSENT_REQUIRED, ask=True)


def _kind_rules(compiled: CompiledPolicy, q: Question, answer: _Answer) -> None:
    rule = answer.rule
    if q.category is not None:
        if q.category not in rule.categories:
            answer.deny(Reason.CATEGORY_NOT_IN_PURPOSE)
        if compiled.sensitive.get(q.category):
            answer.reasons.append(Reason.SENSITIVE_CATEGORY.value)
            answer.obligations.append(Obligation.ENCRYPT.value)
            if rule.basis is LegalBasis.CONSENT:  # PIPL art. 29: separate consent where consent is the basis
                answer.needs_strength = max(answer.needs_strength, strength(ConsentKind.SEPARATE))
    region = q.region
    if q.kind == QuestionKind.SHARE or q.recipient is not None:
        region = _share(compiled, q, answer) if q.region is None else q.region
    if q.kind == QuestionKind.PUBLISH:
        if not rule.is_public_disclosure:
            answer.deny(Reason.NOT_A_PUBLIC_DISCLOSURE_PURPOSE)
        answer.needs_strength = max(answer.needs_strength, strength(ConsentKind.SEPARATE))
    if region is not None:
        _transfer(compiled, region, answer)


def _share(compiled: CompiledPolicy, q: Question, answer: _Answer) -> str:
    recipient = compiled.recipients[str(q.recipient)]
    if answer.rule.id not in recipient.purposes:
        answer.deny(Reason.RECIPIENT_NOT_FOR_PURPOSE)
    if not recipient.is_complete:
        answer.deny(Reason.RECIPIENT_RECORD_INCOMPLETE)
    if not recipient.has_agreement:
        answer.deny(Reason.RECIPIENT_NO_AGREEMENT)
    if q.category is not None and q.category not in recipient.categories:
        answer.deny(Reason.CATEGORY_NOT_FOR_RECIPIENT)
    if recipient.role is RecipientRole.PROCESSOR:
        # Entrusted processing (PIPL art. 21) is not providing data to another handler (art. 23).
        answer.reasons.append(Reason.ENTRUSTED_PROCESSING.value)
    elif recipient.role is not RecipientRole.AUTHORITY:
        answer.needs_strength = max(answer.needs_strength, strength(ConsentKind.SEPARATE))
    answer.obligations.append(Obligation.LOG_DISCLOSURE.value)
    return recipient.region


def _transfer(compiled: CompiledPolicy, region: str, answer: _Answer) -> None:
    if region in compiled.storage_regions:
        answer.reasons.append(Reason.WITHIN_STORAGE_REGION.value)
        return
    # A transfer the law itself requires rests on that law; any other needs an art. 38 mechanism (a CAC security
    # assessment, certification or the standard contract), and separate consent (art. 39).
    by_law = (answer.rule.basis in (LegalBasis.LEGAL_DUTY, LegalBasis.OTHER_LAW)
              and CrossBorderBasis.LEGAL_REQUIREMENT in compiled.mechanisms)
    if not by_law and not compiled.mechanisms & _ART38_MECHANISMS:
        answer.deny(Reason.CROSS_BORDER_NO_MECHANISM)
    if not compiled.has_impact_assessment:
        answer.deny(Reason.CROSS_BORDER_NO_IMPACT_ASSESSMENT)
    if not by_law:
        answer.needs_strength = max(answer.needs_strength, strength(ConsentKind.SEPARATE))
    answer.obligations.append(Obligation.LOG_TRANSFER.value)


def _basis(compiled: CompiledPolicy, state: SubjectState, q: Question, answer: _Answer, now: float) -> None:
    rule = answer.rule
    if q.exception is not None:
        answer.basis, answer.exception = compiled.exceptions[q.exception], q.exception
        answer.relies_on_exception = True
        answer.reasons.append(Reason.LEGAL_EXCEPTION.value)
        return
    if rule.basis is not LegalBasis.CONSENT:
        if answer.needs_strength and rule.consent is ConsentKind.NONE:
            # Sharing, transfer abroad or publication need separate consent, which this purpose never asks for.
            answer.deny(Reason.SEPARATE_CONSENT_REQUIRED)
            return
        if not answer.needs_strength:
            answer.basis, answer.exception = rule.basis, rule.exception
            answer.reasons.append((Reason.ESSENTIAL_SERVICE if rule.is_essential else Reason.LEGAL_BASIS).value)
            return
    _consent(state, answer, now)


_DENIED_STATUS = {
    ConsentStatus.REFUSED.value: (Reason.CONSENT_REFUSED, False),
    ConsentStatus.WITHDRAWN.value: (Reason.CONSENT_WITHDRAWN, False),
    ConsentStatus.EXPIRED.value: (Reason.CONSENT_EXPIRED, True),
    ConsentStatus.SUPERSEDED.value: (Reason.NEEDS_RECONSENT, True),
}


def _consent(state: SubjectState, answer: _Answer, now: float) -> None:
    rule = answer.rule
    needed = max(answer.needs_strength, strength(rule.consent))
    view = state.consents.get(rule.id)
    if view is None:
        answer.deny(Reason.NO_CONSENT, ask=True)
        return
    if view.status != ConsentStatus.GRANTED.value:
        reason, ask = _DENIED_STATUS[view.status]
        answer.deny(reason, ask=ask)
        return
    if view.ordinal < rule.required_ordinal:
        answer.deny(Reason.NEEDS_RECONSENT, ask=True)
    if view.valid_until is not None and now >= view.valid_until:
        answer.deny(Reason.CONSENT_EXPIRED, ask=True)
    if strength(ConsentKind(view.kind)) < needed:
        answer.deny(Reason.SEPARATE_CONSENT_REQUIRED, ask=True)
    if answer.is_minor and not view.by_guardian:
        answer.deny(Reason.GUARDIAN_CONSENT_REQUIRED, ask=True)
    answer.basis = LegalBasis.CONSENT
    answer.reasons.append((Reason.GUARDIAN_CONSENT if view.by_guardian else Reason.CONSENT).value)


def _obligations(compiled: CompiledPolicy, state: SubjectState, q: Question, answer: _Answer, now: float) -> None:
    rule = answer.rule
    if q.kind == QuestionKind.MINOR and Reason.MINOR.value not in answer.reasons:
        answer.reasons.append(Reason.NOT_A_MINOR.value)
    if q.channel == "email":
        if compiled.email_tracking and not all(_granted(state, p, now) for p in compiled.email_tracking):
            answer.obligations.append(Obligation.NO_TRACKING.value)
        if rule.cookie_category is CookieCategory.MARKETING:
            if compiled.is_cn:
                answer.obligations.append(Obligation.SUBJECT_PREFIX_AD.value)
            answer.obligations.append(Obligation.UNSUBSCRIBE_LINK.value)
    if rule.cookie_category is CookieCategory.ANALYTICS or (q.channel == "export" and not rule.is_essential):
        answer.obligations.append(Obligation.DEIDENTIFY.value)


def _granted(state: SubjectState, purpose_id: str, now: float) -> bool:
    view = state.consents.get(purpose_id)
    return (view is not None and view.status == ConsentStatus.GRANTED.value
            and (view.valid_until is None or now < view.valid_until))


def expires(compiled: CompiledPolicy, state: SubjectState, q: Question) -> float:
    """Until when (epoch seconds) the answer to `q` can be reused: the next policy change, the consent's end,
    the day the person comes of age, whichever is first."""
    until = compiled.valid_until
    for purpose_id in (q.purpose, *compiled.email_tracking):
        view = state.consents.get(purpose_id)
        if view is not None and view.valid_until is not None:
            until = min(until, view.valid_until)
    if state.minor_until is not None:
        until = min(until, dt.datetime.combine(state.minor_until, dt.time(), dt.UTC).timestamp())
    return until
