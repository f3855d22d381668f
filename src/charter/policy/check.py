"""`charter policy check`: the cross-checks of `docs/policy-authoring.md` that the schema alone cannot make.

Each check is a small function from a loaded policy to the problems it finds; every problem carries the line
it is on and a sentence saying how to mend it.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from charter.core.i18n import Text
from charter.jurisdictions import RequestKind, refusal_grounds
from charter.policy.catalogue import CATALOGUE, family_of, promises_of
from charter.policy.loader import LoadedPolicy, PolicyFileError, Problem, load_policy_file
from charter.policy.schema import (
    WHOLE_POLICY,
    ConsentKind,
    CrossBorderBasis,
    JurisdictionCode,
    LegalBasis,
    PolicyVersion,
    Purpose,
    RecipientRole,
)

__all__ = ["check_file", "check_policy"]

Check = Callable[[LoadedPolicy], Iterable[Problem]]

# The consent kinds PIPL accepts for sensitive information (art. 29; art. 31 for minors).
_STRONG_CONSENT = frozenset({ConsentKind.SEPARATE, ConsentKind.WRITTEN, ConsentKind.GUARDIAN})
_MAINLAND = "CN"


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def check_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Load and check a policy file; every mistake, including unreadable YAML, comes back as a `Problem`."""
    try:
        loaded = load_policy_file(path)
    except PolicyFileError as err:
        return err.problems
    return check_policy(loaded)


def check_policy(loaded: LoadedPolicy) -> list[Problem]:
    """Every cross-check problem of a policy that passed the schema, in line order."""
    found = [problem for check in _CHECKS for problem in check(loaded)]
    return sorted(found, key=lambda problem: problem.line or 0)


def _problem(loaded: LoadedPolicy, path: str, message: str, fix: str) -> Problem:
    return Problem(loaded.source, loaded.line_of(path), path, message, fix)


def _suggest(value: str, known: Iterable[str]) -> str:
    guess = difflib.get_close_matches(value, list(known), n=1)
    return f"did you mean `{guess[0]}`? " if guess else ""


# 1. Unique ids ---------------------------------------------------------------------------------------------


def _id_lists(policy: PolicyVersion) -> tuple[tuple[str, Sequence[_HasId]], ...]:
    return (
        ("categories", policy.categories),
        ("purposes", policy.purposes),
        ("recipients", policy.recipients),
        ("clauses", policy.clauses),
        ("legal_exceptions", policy.legal_exceptions),
    )


def check_unique_ids(loaded: LoadedPolicy) -> Iterator[Problem]:
    for index, purpose in enumerate(loaded.policy.purposes):
        if purpose.id == WHOLE_POLICY:
            yield _problem(loaded, f"purposes[{index}].id",
                           f"the id `{WHOLE_POLICY}` is reserved: the consent ledger records acceptance of the policy "
                           "as a whole under it (LUB-ACCEPT)",
                           f"name the purpose after what it does, e.g. `{WHOLE_POLICY}_updates`")
    for name, items in _id_lists(loaded.policy):
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.id not in first:
                first[item.id] = index
                continue
            earlier = f"{name}[{first[item.id]}]"
            yield _problem(
                loaded,
                f"{name}[{index}].id",
                f"the id `{item.id}` is already used by {earlier} (line {loaded.line_of(earlier)})",
                f"give every entry of `{name}` its own id, or merge the two entries",
            )


# 2. References ---------------------------------------------------------------------------------------------


def check_references(loaded: LoadedPolicy) -> Iterator[Problem]:
    policy = loaded.policy
    categories = [c.id for c in policy.categories]
    purposes = [p.id for p in policy.purposes]
    for i, purpose in enumerate(policy.purposes):
        yield from _unknown_refs(loaded, f"purposes[{i}]", "categories", purpose.categories, categories)
    for i, recipient in enumerate(policy.recipients):
        yield from _unknown_refs(loaded, f"recipients[{i}]", "categories", recipient.categories, categories)
        yield from _unknown_refs(loaded, f"recipients[{i}]", "purposes", recipient.purposes, purposes)


def _unknown_refs(
    loaded: LoadedPolicy, owner: str, section: str, named: Sequence[str], known: Sequence[str]
) -> Iterator[Problem]:
    what = "category" if section == "categories" else "purpose"
    for j, ref in enumerate(named):
        if ref not in known:
            yield _problem(
                loaded,
                f"{owner}.{section}[{j}]",
                f"unknown {what} `{ref}`",
                f"{_suggest(ref, known)}use an id declared under `{section}:` or declare `{ref}` there",
            )


# 3. Recipients carry what PIPL art. 23 requires ------------------------------------------------------------


def check_recipients(loaded: LoadedPolicy) -> Iterator[Problem]:
    for i, recipient in enumerate(loaded.policy.recipients):
        path = f"recipients[{i}]"
        if recipient.contact is None or not recipient.contact.strip():
            yield _problem(
                loaded,
                f"{path}.contact",
                f"recipient `{recipient.id}` has no contact, so it cannot be used for sharing",
                f"add `contact:` under `{path}` (an email, phone or address): PIPL art. 23 requires the "
                "recipient's name, contact, purposes, method and categories to be told",
            )
        if recipient.method is None:
            yield _problem(
                loaded,
                f"{path}.method",
                f"recipient `{recipient.id}` does not say how it processes the data",
                f"add `method: {{zh: …, en: …}}` under `{path}` (PIPL art. 23: the method of processing)",
            )
        if not recipient.agreement_on_file and recipient.role is not RecipientRole.AUTHORITY:
            yield _problem(
                loaded,
                f"{path}.agreement_on_file",
                f"no data-protection agreement is on file for recipient `{recipient.id}`",
                f"sign one and set `agreement_on_file: true` under `{path}`; only an `authority` needs none",
            )


# 4, 5, 10. Consent kinds -----------------------------------------------------------------------------------


def check_consent(loaded: LoadedPolicy) -> Iterator[Problem]:
    policy = loaded.policy
    for i, purpose in enumerate(policy.purposes):
        path = f"purposes[{i}].consent"
        rests_on_consent = purpose.legal_basis is LegalBasis.CONSENT
        if rests_on_consent and purpose.consent is ConsentKind.NONE:
            yield _problem(
                loaded,
                path,
                f"purpose `{purpose.id}` rests on consent but asks for none (`consent: none`)",
                "set the consent kind to ask for (`general`; `separate` for sensitive, shared or public "
                "data; `guardian` for minors), or name the other PIPL art. 13 basis in `legal_basis:`",
            )
        sensitive = _sensitive_categories(policy, purpose)
        if rests_on_consent and purpose.consent is ConsentKind.GENERAL and sensitive:
            yield _problem(
                loaded,
                path,
                f"purpose `{purpose.id}` uses sensitive {', '.join(sensitive)} under general consent",
                "set `consent: separate` (or `written`, or `guardian` for minors): PIPL art. 29 requires "
                "separate consent for sensitive personal information",
            )
        if purpose.is_public_disclosure and purpose.consent is not ConsentKind.SEPARATE:
            yield _problem(
                loaded,
                path,
                f"purpose `{purpose.id}` makes data public but asks for `{purpose.consent}` consent",
                "set `consent: separate`: PIPL art. 25 allows making personal information public only with "
                "separate consent",
            )


def _sensitive_categories(policy: PolicyVersion, purpose: Purpose) -> list[str]:
    found = (policy.category(category_id) for category_id in purpose.categories)
    return [f"`{c.id}`" for c in found if c is not None and c.is_sensitive]


# 6. Regions and cross-border bases -------------------------------------------------------------------------


def check_regions(loaded: LoadedPolicy) -> Iterator[Problem]:
    policy = loaded.policy
    leaves_mainland = JurisdictionCode.CN in policy.jurisdictions and _MAINLAND in policy.storage_regions
    outside = [
        *((f"storage_regions[{k}]", r) for k, r in enumerate(policy.storage_regions) if r != _MAINLAND),
        *((f"recipients[{i}].region", r.region) for i, r in enumerate(policy.recipients)),
    ]
    for path, region in outside:
        is_outside_mainland = leaves_mainland and region != _MAINLAND
        if region not in policy.storage_regions or is_outside_mainland:
            problem = _cross_border_problem(loaded, path, region, needs_consent=is_outside_mainland)
            if problem is not None:
                yield problem


def _cross_border_problem(loaded: LoadedPolicy, path: str, region: str, *, needs_consent: bool) -> Problem | None:
    bases = loaded.policy.cross_border.bases
    allowed = ", ".join(CrossBorderBasis)
    if not bases:
        extra = " including `explicit_consent` (PIPL art. 39)" if needs_consent else ""
        return _problem(
            loaded,
            path,
            f"data goes to {region}, outside the storage regions "
            f"{', '.join(loaded.policy.storage_regions)}, with no cross-border basis",
            f"add the bases for the transfer under `cross_border: bases:`{extra} (one or more of {allowed}), "
            "or keep the data in a storage region",
        )
    if needs_consent and CrossBorderBasis.EXPLICIT_CONSENT not in bases:
        return _problem(
            loaded,
            path,
            f"personal information stored in mainland China goes to {region} without explicit consent among "
            "the cross-border bases",
            "add `explicit_consent` to `cross_border: bases:`: PIPL art. 39 requires separate consent for "
            "every transfer out of the mainland",
        )
    return None


# 7. Traditional Chinese for HK policies --------------------------------------------------------------------


def _hk_texts(policy: PolicyVersion) -> Iterator[tuple[str, Text]]:
    for i, category in enumerate(policy.categories):
        yield f"categories[{i}].label", category.label
    for i, purpose in enumerate(policy.purposes):
        yield f"purposes[{i}].label", purpose.label
        yield f"purposes[{i}].description", purpose.description
    for i, clause in enumerate(policy.clauses):
        yield f"clauses[{i}].title", clause.title


def check_traditional_chinese(loaded: LoadedPolicy) -> Iterator[Problem]:
    if JurisdictionCode.HK not in loaded.policy.jurisdictions:
        return
    for path, text in _hk_texts(loaded.policy):
        if text.zh_tw is None or not text.zh_tw.strip():
            yield _problem(
                loaded,
                f"{path}.zh_tw",
                "the Traditional Chinese text (`zh_tw`) is missing; an HK policy needs it here",
                f"add `zh_tw:` with the Traditional Chinese text under `{path}`",
            )


# 8. Promise ids --------------------------------------------------------------------------------------------


def check_promises(loaded: LoadedPolicy) -> Iterator[Problem]:
    policy = loaded.policy
    for i, clause in enumerate(policy.clauses):
        for j, promise_id in enumerate(clause.promises):
            if promise_id not in CATALOGUE:
                yield _problem(
                    loaded,
                    f"clauses[{i}].promises[{j}]",
                    f"`{promise_id}` is not in the promise catalogue",
                    f"{_suggest(promise_id, CATALOGUE)}use an id listed in PROMISES.md",
                )
    yield from _unplaced_promises(loaded)


def _unplaced_promises(loaded: LoadedPolicy) -> Iterator[Problem]:
    family = family_of(loaded.policy)
    if family is None:
        return
    placed = set(loaded.policy.promise_ids())
    for promise in promises_of(family):
        if promise.id not in placed:
            yield _problem(
                loaded,
                "clauses",
                f"promise `{promise.id}` (seed clause {promise.clause}) is not placed on any clause",
                f"add `{promise.id}` to the `promises:` of the clause that makes it: {promise.promise}",
            )


# 9. Refusal grounds ----------------------------------------------------------------------------------------


def check_refusal_grounds(loaded: LoadedPolicy) -> Iterator[Problem]:
    policy = loaded.policy
    known = {ground.code for kind in RequestKind for ground in refusal_grounds(policy.jurisdictions, kind)}
    regimes = ", ".join(policy.jurisdictions)
    for i, code in enumerate(policy.refusal_grounds):
        if code not in known:
            yield _problem(
                loaded,
                f"refusal_grounds[{i}]",
                f"`{code}` is not a refusal ground of the {regimes} rule pack(s)",
                f"{_suggest(code, known)}use one of {', '.join(sorted(known))}",
            )


_CHECKS: tuple[Check, ...] = (
    check_unique_ids,
    check_references,
    check_recipients,
    check_consent,
    check_regions,
    check_traditional_chinese,
    check_promises,
    check_refusal_grounds,
)
