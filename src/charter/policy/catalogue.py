"""The promise catalogue (`PROMISES.md`) as data: every commitment of the two seed policies, with an id.

Policies place these ids on their clauses (`promises: [LUB-DELETE]`); `charter policy check` insists each id
exists here and that every id of the policy's family is placed somewhere; `coverage` reports how each is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from charter.policy.schema import PolicyVersion

__all__ = ["CATALOGUE", "Family", "Promise", "family_of", "get_promise", "promises_of"]


class Family(StrEnum):
    """Which seed policy a promise comes from."""

    LUB = "LUB"
    LAN = "LAN"


@dataclass(frozen=True)
class Promise:
    id: str
    family: Family
    clause: str
    """The seed's own clause numbering."""
    promise: str
    must_do: str
    """What the software must do to keep it."""


def _promise(promise_id: str, clause: str, promise: str, must_do: str) -> Promise:
    return Promise(promise_id, Family(promise_id.split("-", 1)[0]), clause, promise, must_do)


_PROMISES: tuple[Promise, ...] = (
    _promise(
        "LAN-SCOPE",
        "1.1–1.3",
        (
            "Policy covers all Landups services; services that third parties provide through the platform"
            " fall under the third party's own terms."
        ),
        (
            "Recipients that are independent controllers are declared as such; data handed to them is "
            "logged as a disclosure, and access exports say which third party holds what."
        ),
    ),
    _promise(
        "LAN-COLLECT-ACCOUNT",
        "2.1",
        (
            "Registration, account management and real-name authentication collect name, email, QQ, "
            "phone, address, bank account, business registration."
        ),
        (
            "Data categories + collection points declared; real-name authentication flow; bank account "
            "and ID data treated as sensitive (encrypted at rest)."
        ),
    ),
    _promise(
        "LAN-COLLECT-USAGE",
        "2.2",
        (
            "Login and usage records: IP, browser type, language, access time, software/hardware "
            "features, user identifiers, browsing records."
        ),
        (
            "Access log declared as a dataset with a retention rule; included in access exports; "
            "erased/anonymised on cancellation."
        ),
    ),
    _promise(
        "LAN-COLLECT-OPTIONAL",
        "2.3–2.5",
        (
            "Optional features (website filing, cloud market, membership upgrade, offline delivery, "
            "product testing) collect contact person, contact info, address, ID photo only when used."
        ),
        (
            "Collection is tied to the purpose/feature; refusing an optional purpose never blocks basic "
            "service; ID photo stored encrypted."
        ),
    ),
    _promise(
        "LAN-COOKIES",
        "3.2–3.4",
        (
            "Cookies remember who you are and analyse use for personalisation; users can refuse or manage"
            " cookies, at the cost of some functions."
        ),
        (
            "Cookie categories (strictly necessary vs. analytics/personalisation); a banner that records "
            "the choice server-side; non-essential cookies not set before consent; choice can be changed "
            "later."
        ),
    ),
    _promise(
        "LAN-USE",
        "4",
        (
            "Uses: provide services; personal settings (language, location); optimise services; protect "
            "users (identity verification, fraud monitoring, complaints); recommend related services; "
            "invite to surveys."
        ),
        (
            'Each use is a declared purpose with a legal basis; the decision API answers "may X be used '
            'for purpose P" per subject.'
        ),
    ),
    _promise(
        "LAN-NEW-PURPOSE",
        "4 (last)",
        "A use not reasonably related to the original one needs consent again.",
        (
            "A purpose added to the policy that is not compatible with existing ones starts with no "
            "consent for everyone; the decision API denies until fresh consent is recorded."
        ),
    ),
    _promise(
        "LAN-SHARE",
        "5.1",
        (
            "No sharing with unrelated third parties without consent; sharing with affiliates, providers,"
            " contractors, agents only for the stated purposes, bound to confidentiality."
        ),
        (
            "Recipient registry (name, role, purposes, agreement on file); the sharing decision checks "
            "purpose and consent; every disclosure is logged and appears in the subject's access export."
        ),
    ),
    _promise(
        "LAN-MERGER",
        "5.2",
        (
            "In a merger/acquisition/asset transfer, users are notified before the transfer and the new "
            "holder keeps the obligations."
        ),
        (
            'A "controller transfer" operation that notifies every affected subject and records the '
            "acknowledgement of the new holder before data moves."
        ),
    ),
    _promise(
        "LAN-LEGAL-DISCLOSURE",
        "5.3",
        "Disclosures compelled by law/court/authority are followed by prompt notice to the user.",
        (
            "Compelled-disclosure record with grounds; subject notified (unless the record carries a "
            "lawful gag with an expiry)."
        ),
    ),
    _promise(
        "LAN-STORAGE-HK",
        "6.1",
        "Stored on servers in Hong Kong.",
        (
            "Each data store declares its region; the policy's allowed region is enforced: a store or "
            "recipient outside it is flagged and a transfer there is denied unless a cross-border basis "
            "exists."
        ),
    ),
    _promise(
        "LAN-RETENTION",
        "6.2",
        ("Kept only while providing the service and no longer than necessary, except listed legal reasons."),
        (
            "Retention rule per dataset; scheduled sweeps delete or anonymise; legal holds (with reason "
            "and expiry) suspend deletion."
        ),
    ),
    _promise(
        "LAN-ACCOUNT-LINK",
        "7.1",
        "A Landups account may be associated with other Landups/landups.com accounts.",
        (
            "Several identities (email, phone, account ids) resolve to one subject; access and erasure "
            "cover all linked identities."
        ),
    ),
    _promise(
        "LAN-SECURITY",
        "7.2",
        "Multiple backups, password encryption, strictly limited staff access under confidentiality.",
        (
            "Passwords hashed (argon2id); backups with verified restore; staff roles with least "
            "privilege; every staff read of personal data is audited."
        ),
    ),
    _promise(
        "LAN-BREACH",
        "7.2",
        (
            "On a security incident: emergency plan, report per the national incident plan, inform users "
            "by email, push, announcements, with safety advice."
        ),
        (
            "Incident workflow: scope → affected subjects → notices (email/push/announcement) carrying "
            "the required content → regulator report; all timed and audited."
        ),
    ),
    _promise(
        "LAN-RIGHTS",
        "8.1–8.2",
        (
            "Users can access, modify and delete their information; can ask for deletion of unlawfully "
            "used data and correction of errors they can't fix themselves."
        ),
        "Self-service access/rectification/erasure; request workflow for the rest.",
    ),
    _promise(
        "LAN-VERIFY",
        "8.3",
        ("Identity is verified before access, modification or deletion; some requests may not be answered."),
        (
            "Verification (code to a verified email/phone, or a signed assertion from the host's login) "
            "before any request executes; refusals carry a ground."
        ),
    ),
    _promise(
        "LAN-LIMITS",
        "8.4",
        "Some data can't be accessed/modified/deleted for legal or security reasons.",
        ("Legal holds and retention-locked fields are reported to the user instead of silently skipped."),
    ),
    _promise(
        "LAN-WITHDRAW",
        "8.5",
        ("Consent for non-basic functions can be withdrawn; the account can be cancelled (via customer service)."),
        (
            "Withdrawal per purpose, effective at once in decisions; account cancellation request that "
            "ends in erasure/anonymisation."
        ),
    ),
    _promise(
        "LAN-CHANGE",
        "9",
        ("Material changes are announced prominently on the home page or by email before they take effect."),
        (
            "Policy versions with effective dates; a material change triggers notices ahead of the "
            "effective date and a banner."
        ),
    ),
    _promise(
        "LUB-ACCEPT",
        "preamble",
        "No registration, login or use without accepting the statement and policy.",
        (
            "Registration records acceptance of the exact policy version (hash); a user on an outdated "
            "version is asked again where the change requires it."
        ),
    ),
    _promise(
        "LUB-ACCOUNT-SECURITY",
        "rules 5",
        "A user who reports unauthorised use of the account can have the account's service suspended.",
        (
            "Account suspension on request, audited; suspended accounts cannot log in or be processed for"
            " non-essential purposes."
        ),
    ),
    _promise(
        "LUB-SUBSCRIBE",
        "rules 7",
        "Email subscribers agree to receive product information, offers and guides.",
        (
            "Marketing email is a purpose with its own consent (double opt-in); every message carries a "
            "one-click unsubscribe that takes effect at once."
        ),
    ),
    _promise(
        "LUB-PRINCIPLES",
        "tips",
        (
            "Principles: consistent rights & duties, clear purpose, choice & consent, minimum necessary, "
            "security, participation, openness."
        ),
        (
            "Collection checks: a host may only store categories its policy declares for the purpose "
            "(undeclared-field scan)."
        ),
    ),
    _promise(
        "LUB-CATEGORIES",
        "1.(1)",
        (
            "Categories: basic (name, company, company address, avatar, WeChat, QQ, phone, address, "
            "email); network identity (account, IP, password); online records (downloads, browsing/cache,"
            " favourites, software use, access records & frequency); property (transactions, statements, "
            "points); other (location, voice, pictures, customer-service records)."
        ),
        ("All declared as data categories, each mapped to where it is stored, each present in access exports."),
    ),
    _promise(
        "LUB-THIRD-PARTY-INFO",
        "1.(1).1",
        ("Info a user gives about other people (e.g. in purchase requests) requires their authorisation."),
        (
            "Forms that take other people's data record the submitter's attestation; that data is "
            "exportable/erasable on the other person's request too."
        ),
    ),
    _promise(
        "LUB-COOKIE-COLLECT",
        "1.(1).2, 2.(1)",
        "Cookies collect browser info and cache records; store identifiers and preferences.",
        "As LAN-COOKIES.",
    ),
    _promise(
        "LUB-USE",
        "1.(2)",
        (
            "Uses: make you a user; personalised goods/services and admin notices; data analysis on "
            "de-identified data, including commercial use of the de-identified user database."
        ),
        (
            "Purposes declared; analytics exports are de-identified (no direct identifiers, "
            "re-identification keys held back)."
        ),
    ),
    _promise(
        "LUB-CONSENT-DURATION",
        "1.(2)",
        (
            "Consent lasts while you use the service unless you delete or refuse via settings; new uses "
            "need prior consent."
        ),
        "Consent state per purpose with history; new purpose → no consent until asked.",
    ),
    _promise(
        "LUB-EXCEPTIONS",
        "1.(3)",
        (
            "Eleven cases where no consent is needed (national security, public safety/health, criminal "
            "justice, vital interests, self-disclosed, lawfully public, contract, security/stability, "
            "news, de-identified research, other law)."
        ),
        ("Legal bases other than consent are first-class: a decision can be allowed on a legal basis, and says which."),
    ),
    _promise(
        "LUB-SHUTDOWN",
        "1.(3) last",
        "If the service stops: stop collecting, notify each user or announce, delete or anonymise.",
        (
            'A "cease operations" procedure: collection switched off, notices sent, all datasets '
            "erased/anonymised, report produced."
        ),
    ),
    _promise(
        "LUB-BEACONS",
        "2.(2)",
        ("Web beacons and pixel tags in email track opens/clicks; users can ask to stop this at any time."),
        (
            "Open/click tracking is its own purpose; tracking pixels and redirect links are left out of "
            "mail for those who refused; the request is honoured at once."
        ),
    ),
    _promise(
        "LUB-SHARE",
        "3.(1)",
        (
            "Share only with explicit consent, by law, with affiliates (necessary data only; sensitive "
            "data or a change of purpose → ask again), with authorised partners (advertising/analytics; "
            "suppliers) under data-protection agreements."
        ),
        (
            "Recipient registry with role and agreement; sharing decision with these rules; sensitive "
            "categories need separate consent."
        ),
    ),
    _promise(
        "LUB-TRANSFER",
        "3.(2)",
        ("Transfer only with explicit consent, or in M&A where the new holder stays bound or asks again."),
        "As LAN-MERGER.",
    ),
    _promise(
        "LUB-PUBLIC",
        "3.(3)",
        (
            "Public disclosure only with explicit consent/active choice, or for violations (disclosing "
            "the violation and measures)."
        ),
        ("Public-disclosure is a purpose needing separate consent; violation disclosures are logged with grounds."),
    ),
    _promise(
        "LUB-DEIDENTIFIED",
        "3.(3) last",
        "Sharing de-identified data that the receiver cannot re-identify is not sharing PI.",
        (
            "De-identification transform with a check that no direct identifier survives; such exports "
            "are logged as de-identified."
        ),
    ),
    _promise(
        "LUB-SECURITY",
        "4.(1)–(3)",
        "Industry-standard protection; avoid collecting irrelevant data; keep only as long as needed.",
        "As LAN-SECURITY and LAN-RETENTION.",
    ),
    _promise(
        "LUB-BREACH",
        "4.(3)",
        (
            "After an incident, inform users of: what happened and its possible impact, measures taken or"
            " to be taken, how to protect themselves, remedies — by push, email, SMS or phone; announce "
            "publicly when individual notice is impractical; report to regulators."
        ),
        (
            "Incident notices must contain all four elements (checked before sending); channels "
            "email/SMS/push; public announcement; regulator report."
        ),
    ),
    _promise(
        "LUB-ACCESS",
        "5.(1)",
        (
            "Access account info (phone, avatar, customer service, WeChat, QQ, address, company "
            "name/address, position), purchase requests, footprints, favourites, purchase panel in the "
            "personal centre; otherwise via customer service."
        ),
        "Personal centre pages in the Lubpur platform; complete machine-readable export on request.",
    ),
    _promise(
        "LUB-RECTIFY",
        "5.(2)",
        "Right to correct or supplement.",
        "Rectification, self-service and by request, propagated to every store holding the field.",
    ),
    _promise(
        "LUB-DELETE",
        "5.(3)",
        (
            "Delete some data yourself; request deletion in five cases (unlawful processing, no consent, "
            "breach of agreement, no longer using/cancelled, service stopped); tell those who received "
            "your data to delete it too."
        ),
        (
            "Erasure across all datasets; deletion propagated to every recipient the data was disclosed "
            "to, with their acknowledgement tracked."
        ),
    ),
    _promise(
        "LUB-WITHDRAW",
        "5.(4)",
        "Withdraw consent for additional uses; earlier processing stays lawful.",
        "Withdrawal takes effect in decisions at once; history kept; earlier records not rewritten.",
    ),
    _promise(
        "LUB-CANCEL",
        "5.(5)",
        "Cancel the account (by email request); service stops, data deleted or anonymised.",
        "Cancellation request type; ends in erasure/anonymisation of every dataset; login disabled.",
    ),
    _promise(
        "LUB-AUTOMATED",
        "5.(6)",
        ("Right to an explanation of automated decisions that significantly affect you, and an appeal route."),
        (
            "Automated decisions are recorded with their inputs and logic version; subjects can get an "
            "explanation and file an appeal reviewed by a person."
        ),
    ),
    _promise(
        "LUB-VERIFY",
        "5.(7)",
        (
            "Identity verified before acting; six grounds to refuse (national security; public "
            "safety/health; criminal investigation; malice or abuse; serious harm to others; trade "
            "secrets)."
        ),
        (
            "Verification before execution; refusal only with one of the enumerated grounds, recorded and"
            " shown to the user."
        ),
    ),
    _promise(
        "LUB-MINORS",
        "6",
        (
            "Minors may not create accounts without guardian consent; minors' data used only as the law "
            "allows or the guardian agrees."
        ),
        ("Age/minor flag at registration; guardian consent recorded and verifiable; decisions for minors require it."),
    ),
    _promise(
        "LUB-STORAGE-CN",
        "7",
        (
            "Stored in mainland China; cross-border only when law requires, with explicit authorisation, "
            "or when the user publishes across borders."
        ),
        "Region enforcement as LAN-STORAGE-HK, with the three cross-border bases.",
    ),
    _promise(
        "LUB-CHANGE",
        "8",
        (
            "Rights are never reduced without explicit consent; revised versions are published; material "
            "reductions → pop-up asking for consent again."
        ),
        (
            "Versioned policies with a materiality diff; material change → re-consent prompt before the "
            "user continues; the full history of versions is public."
        ),
    ),
    _promise(
        "LUB-CONTACT",
        "9",
        "Contact channels (complaints, business, phone, legal).",
        "Contacts are part of the policy and shown on every privacy page and notice.",
    ),
)

CATALOGUE: Mapping[str, Promise] = {p.id: p for p in _PROMISES}

# Controller ids of the reference platforms, for a policy whose clauses name no promise yet.
_FAMILY_BY_CONTROLLER = {"lubpur": Family.LUB, "landups": Family.LAN}


def get_promise(promise_id: str) -> Promise | None:
    return CATALOGUE.get(promise_id)


def promises_of(family: Family | str) -> tuple[Promise, ...]:
    """Every promise of one family, in catalogue order."""
    return tuple(p for p in _PROMISES if p.family == family)


def family_of(policy: PolicyVersion) -> Family | None:
    """The family whose promises the policy makes: the one most of its catalogued clause ids belong to.

    On a tie, or when no clause names a catalogued promise, the controller id decides (`lubpur`, `landups`).
    """
    counts = dict.fromkeys(Family, 0)
    for promise_id in policy.promise_ids():
        promise = CATALOGUE.get(promise_id)
        if promise is not None:
            counts[promise.family] += 1
    best = max(counts.values())
    leaders = [family for family, count in counts.items() if count == best and count > 0]
    if len(leaders) == 1:
        return leaders[0]
    by_controller = _FAMILY_BY_CONTROLLER.get(policy.controller.id)
    if by_controller is not None and (not leaders or by_controller in leaders):
        return by_controller
    return None
