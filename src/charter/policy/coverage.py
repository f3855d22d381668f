"""Which promises Charter keeps today, and by what: an honest registry, one row per catalogue id.

A promise is `enforced` only when a test drives it through the real code path and asserts the outcome;
`partial` when part of what PROMISES.md asks is built and tested; `not_yet` names the issue that will build it.
Later issues change rows here and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from charter.policy.catalogue import CATALOGUE, family_of, promises_of
from charter.policy.schema import PolicyVersion

__all__ = ["REGISTRY", "CoverageStatus", "Enforcement", "PromiseCoverage", "coverage"]


class CoverageStatus(StrEnum):
    ENFORCED = "enforced"
    PARTIAL = "partial"
    NOT_YET = "not_yet"


@dataclass(frozen=True)
class Enforcement:
    status: CoverageStatus
    by: str


@dataclass(frozen=True)
class PromiseCoverage:
    id: str
    clauses: tuple[str, ...]
    """The ids of the policy's clauses that make the promise; empty when no clause does."""
    status: CoverageStatus
    by: str


_E, _P, _N = CoverageStatus.ENFORCED, CoverageStatus.PARTIAL, CoverageStatus.NOT_YET

# What exists: policy schema/check/diff/render (tests/policy), jurisdiction rule packs (tests/jurisdictions),
# encrypted identities with blind index (tests/subjects), hash-chained audit log (tests/audit), argon2id staff
# passwords and API keys (tests/accounts), the data map with its checks, plan and connectors (tests/datamap,
# tests/connectors).
_CHECK = "charter.policy.check"
_DIFF = "charter.policy.diff classifies material changes (test: tests/policy/test_diff.py)"
_CONSENT = "consent ledger (issue 3)"
_T_CONSENTS = "tests/web/test_consents_api.py"
_T_DECISIONS = "tests/web/test_decisions_api.py"
_T_BANNER = "tests/web/test_banner_api.py, tests/browser/test_banner.py"
_BANNER = (
    "charter.consent.banner and /static/charter-consent.js: categories from the policy, nothing non-essential set "
    "or run before the choice, the choice recorded in the ledger and changeable from a link, GPC applied "
    f"(tests: {_T_BANNER})"
)
_REQUESTS = "requests (issue 4)"
_CENTRE = "privacy centre (issue 5)"
_RETENTION = "retention/incidents (issue 8)"
_T_RETENTION = "tests/retention/test_sweep.py, tests/web/test_retention_api.py, tests/web/test_jobs.py"
_T_INCIDENTS = "tests/web/test_incidents_api.py, tests/incidents/test_notices.py, tests/incidents/test_report.py"
_T_OPERATIONS = "tests/web/test_operations_api.py"
_DATAMAP_REGION = (
    "charter.datamap.check refuses a data map whose dataset is stored outside the policy's storage regions, and "
    "publishing runs that check (tests: tests/datamap/test_check.py, tests/web/test_datamaps_api.py)"
)
_SECURITY = (
    "charter.accounts.passwords hashes staff passwords with argon2id and charter.audit chains every event "
    "(tests: tests/accounts, tests/audit); the admin console enforces staff roles on every page and action, a "
    "TOTP second factor and attempt limits, and audits staff reads of personal data (tests: tests/web/admin); "
    "verified backups: not yet"
)

REGISTRY: dict[str, Enforcement] = {
    # Landups
    "LAN-SCOPE": Enforcement(_N, f"{_REQUESTS}: disclosure log and access exports naming each third party"),
    "LAN-COLLECT-ACCOUNT": Enforcement(
        _P,
        f"{_CHECK} requires sensitive categories (bank account, ID) to carry separate consent (test: "
        f"tests/policy/test_check.py); real-name flow and encryption of host data: {_REQUESTS}",
    ),
    "LAN-COLLECT-USAGE": Enforcement(
        _N, f"{_RETENTION}: access-log dataset with a retention rule; exports: {_REQUESTS}"
    ),
    "LAN-COLLECT-OPTIONAL": Enforcement(
        _P,
        "charter.decisions never lets a declined optional purpose refuse an essential one (PIPL art. 16) (tests: "
        f"{_T_DECISIONS}, tests/decisions/test_core.py); ID photo encryption in the host's stores: {_REQUESTS}",
    ),
    "LAN-COOKIES": Enforcement(_E, _BANNER),
    "LAN-USE": Enforcement(
        _E,
        f"{_CHECK} requires every purpose to name a legal basis; POST /v1/decisions answers per subject and purpose "
        f"with the basis (tests: tests/policy/test_check.py, {_T_DECISIONS}, tests/sdk/test_client.py)",
    ),
    "LAN-NEW-PURPOSE": Enforcement(
        _E, f"{_DIFF}; a purpose nobody consented to is denied with ask_consent until consent is recorded "
            f"(test: {_T_DECISIONS})"
    ),
    "LAN-SHARE": Enforcement(
        _P,
        f"{_CHECK} requires every recipient to carry the PIPL art. 23 fields and an agreement; the sharing decision "
        f"checks the recipient's purposes, record, agreement and separate consent (tests: tests/policy/test_check.py,"
        f" {_T_DECISIONS}, tests/decisions/test_core.py); the disclosure log in access exports: {_REQUESTS}",
    ),
    "LAN-MERGER": Enforcement(
        _E,
        "charter.operations.transfer: everyone told (email over SMTP, in-app, announced) before the transfer, the new "
        "holder's undertaking recorded (hashed, audited), and the hand-over refused until both are done and the "
        f"announced date has come (tests: {_T_OPERATIONS}, tests/operations/test_transfer.py)",
    ),
    "LAN-LEGAL-DISCLOSURE": Enforcement(
        _E,
        "charter.operations.disclosure: grounds and what was disclosed recorded; the person told at once, or when a "
        "lawful restriction (which must carry an expiry) ends, by the periodic job (tests: "
        f"{_T_OPERATIONS}, tests/operations/test_disclosure.py)",
    ),
    "LAN-STORAGE-HK": Enforcement(
        _P,
        f"{_CHECK} flags a recipient region outside the storage regions without a cross-border basis; the transfer "
        f"decision denies without a mechanism, separate consent and an impact assessment (tests: "
        f"tests/policy/test_check.py, {_T_DECISIONS}); {_DATAMAP_REGION}",
    ),
    "LAN-RETENTION": Enforcement(
        _E,
        "charter.retention: every dataset's rule applied through the connectors in chunks (SQL, Redis, webhook; "
        "manual stores reported), on a schedule in the server; legal holds with reason, who and expiry keep what "
        "they cover, restrict the person they name, are reported by each run and by erasure requests (tests: "
        f"{_T_RETENTION}, tests/retention/test_restriction.py, tests/retention/test_requests.py)",
    ),
    "LAN-ACCOUNT-LINK": Enforcement(
        _P,
        "charter.subjects resolves several encrypted identities to one subject (test: tests/subjects); "
        "charter.datamap.plan covers every collection any of the linked identity kinds leads to (test: "
        "tests/datamap/test_plan.py); a request by email erases the phone-linked rows too (test: "
        "tests/requests/test_runner.py); through HTTP for email identities (test: tests/web/test_requests_api.py); "
        "linking host account ids from the reference platforms: their SDK wiring",
    ),
    "LAN-SECURITY": Enforcement(_P, _SECURITY),
    "LAN-BREACH": Enforcement(
        _E,
        "charter.incidents: record → people affected resolved from the data map and the window → notices carrying "
        "every required element (email, SMS, push, in-app, announcement) → regulator report (zh/en, Markdown/PDF); "
        f"clocks with what is overdue; every step audited (tests: {_T_INCIDENTS})",
    ),
    "LAN-RIGHTS": Enforcement(
        _P,
        "charter.requests over HTTP and the SDK: access with its bundle, erasure, restriction, withdrawal, "
        "cancellation, explanation, each verified first and carried out in the controller's databases (tests: "
        "tests/web/test_requests_api.py, tests/web/test_admin_requests_api.py, tests/sdk/test_client_requests.py, "
        f"tests/requests/test_runner.py); self-service pages in the {_CENTRE}",
    ),
    "LAN-VERIFY": Enforcement(
        _E,
        "charter.requests: six-digit code (hashed, 10 min, lockout) or single-use host assertion before any "
        "task runs, an unknown person answered like a known one; refusal only with an enumerated ground, nothing "
        "written without one (tests: tests/web/test_requests_api.py, tests/web/test_admin_requests_api.py, "
        "tests/sdk/test_client_requests.py, tests/requests/test_verification.py)",
    ),
    "LAN-LIMITS": Enforcement(
        _P,
        "charter.requests: retention-locked fields become held items with their reason, told to the person and "
        "shown in the request's status; after a cancellation they are restricted (tests: "
        "tests/web/test_host_records_api.py, tests/requests/test_runner.py, tests/requests/test_consent_steps.py); "
        "a legal hold keeps the collections it covers out of an erasure and they are reported as held (test: "
        "tests/retention/test_requests.py)",
    ),
    "LAN-WITHDRAW": Enforcement(
        _E,
        f"withdrawal per purpose in one call or as a request, effective in the next decision (tests: {_T_CONSENTS}, "
        "tests/sdk/test_client.py, tests/web/test_requests_api.py); cancellation tells the host to disable the "
        "login (signed webhook, or polled closures), erases or anonymises every dataset and restricts what "
        "retention keeps (tests: tests/web/test_host_records_api.py, tests/sdk/test_client_requests.py, "
        "tests/requests/test_consent_steps.py)",
    ),
    "LAN-CHANGE": Enforcement(
        _E,
        f"{_DIFF}; the privacy centre announces a version before its effective date, with what changes (test: "
        "tests/web/center/test_policy.py); the banner asks again after a change needing fresh consent (test: "
        "tests/browser/test_banner.py); a material change published ahead emails everyone in their language, "
        "leaves an in-app notice and an announcement before the date, and the banner can ask what is coming "
        f"(tests: tests/operations/test_changes.py, {_T_OPERATIONS})",
    ),
    # Lubpur
    "LUB-ACCEPT": Enforcement(
        _E,
        "every consent records the exact policy version and content hash, and a consent under a version older than "
        f"a material change is denied as needs_reconsent (tests: tests/policy/test_hashing.py, {_T_CONSENTS}); "
        "registration records acceptance of the policy as a whole, version and hash, in the ledger (`acceptance` "
        "on POST /v1/subjects, SDK register(accept_policy=…)): appended, receipted, in the history and the access "
        "export, consenting to no purpose; after a change needing fresh consent its state says needs_reconsent and "
        "the new acceptance is appended (POST /v1/subjects/{id}/acceptance, SDK needs_acceptance and "
        f"accept_policy; tests: {_T_CONSENTS}, tests/sdk/test_client.py); the Lubpur platform refuses "
        "registration without it, asks again after a change, and sends each acceptance to the ledger (tests: "
        "tests/examples/lubpur/test_accounts.py, tests/examples/lubpur/test_charter_privacy.py)",
    ),
    "LUB-ACCOUNT-SECURITY": Enforcement(
        _P, f"suspension and unsuspension, audited, deny non-essential processing (tests: {_T_DECISIONS}, "
            "tests/sdk/test_client.py); refusing the login itself: the Lubpur platform"
    ),
    "LUB-SUBSCRIBE": Enforcement(
        _P,
        "marketing email is its own consent purpose, its decisions carry unsubscribe_link, and withdrawal (method "
        f"unsubscribe_link) takes effect at once (tests: {_T_DECISIONS}, tests/sdk/test_client.py); the double "
        "opt-in mail and the unsubscribe page: outbox (issue 8) and the Lubpur platform",
    ),
    "LUB-PRINCIPLES": Enforcement(
        _P,
        f"{_CHECK} rejects a purpose or recipient naming an undeclared category (test: "
        f"tests/policy/test_check.py); undeclared-field scan of host data: {_REQUESTS}",
    ),
    "LUB-CATEGORIES": Enforcement(_N, f"{_REQUESTS}: each category mapped to where it is stored and exported"),
    "LUB-THIRD-PARTY-INFO": Enforcement(_N, f"{_REQUESTS}: attestation and export/erasure for the other person"),
    "LUB-COOKIE-COLLECT": Enforcement(_E, f"as LAN-COOKIES: {_BANNER}"),
    "LUB-USE": Enforcement(
        _E,
        f"{_CHECK} validates the declared purposes; analytics decisions carry the deidentify obligation (tests: "
        f"tests/policy/test_check.py, {_T_DECISIONS}); analytics exports are de-identified — identities dropped, keys "
        "pseudonymised with a key Charter holds back, personal fields generalised or dropped, refused if a direct "
        f"identifier survives (tests: {_T_OPERATIONS}, tests/operations/test_exports.py)",
    ),
    "LUB-CONSENT-DURATION": Enforcement(
        _E, f"consent state per purpose with its full history; a new purpose has no consent until asked (tests: "
            f"{_T_CONSENTS}, {_T_DECISIONS})"
    ),
    "LUB-EXCEPTIONS": Enforcement(
        _E,
        "every PIPL art. 13 basis is in the schema and charter.jurisdictions; decisions say which basis and which of "
        f"the policy's legal exceptions they rest on (tests: tests/jurisdictions, {_T_DECISIONS})",
    ),
    "LUB-SHUTDOWN": Enforcement(
        _E,
        "charter.operations.shutdown: collection switched off (grants, decisions, new people and banner choices "
        "refused with 409), everyone told or an announcement, every dataset erased or anonymised through the "
        f"connectors (holds still counted), a closing report (tests: {_T_OPERATIONS}, "
        "tests/operations/test_shutdown.py)",
    ),
    "LUB-BEACONS": Enforcement(
        _P, f"email tracking is its own purpose and email decisions carry no_tracking for those without it (test: "
            f"{_T_DECISIONS}); leaving pixels and tracked links out of the mail: outbox (issue 8)"
    ),
    "LUB-SHARE": Enforcement(
        _E,
        f"{_CHECK} requires recipients' PIPL art. 23 fields and separate consent for sensitive categories; the "
        "sharing decision needs a complete recipient record with an agreement and separate consent for another "
        f"handler (tests: tests/policy/test_check.py, {_T_DECISIONS}, tests/decisions/test_core.py)",
    ),
    "LUB-TRANSFER": Enforcement(_E, f"as LAN-MERGER (tests: {_T_OPERATIONS}, tests/operations/test_transfer.py)"),
    "LUB-PUBLIC": Enforcement(
        _P,
        f"{_CHECK} requires separate consent for a public-disclosure purpose and the publish decision needs it "
        f"(tests: tests/policy/test_check.py, {_T_DECISIONS}); logging violation disclosures (issue 8)",
    ),
    "LUB-DEIDENTIFIED": Enforcement(
        _E,
        "charter.operations.deidentify: the transform, a check that no direct identifier (email, phone, ID-card or "
        "bank-card number, the row's own identities) survives — the export is refused otherwise — and each export "
        f"logged as de-identified (tests: {_T_OPERATIONS}, tests/operations/test_exports.py, "
        "tests/operations/test_deidentify.py)",
    ),
    "LUB-SECURITY": Enforcement(_P, f"{_SECURITY}; retention as LAN-RETENTION (tests: {_T_RETENTION})"),
    "LUB-BREACH": Enforcement(
        _E,
        "charter.incidents: a notice missing any element its jurisdictions require is refused naming it; channels "
        f"email/SMS/push/in-app, a public announcement, the regulator report (tests: {_T_INCIDENTS}, "
        "tests/incidents/test_elements.py)",
    ),
    "LUB-ACCESS": Enforcement(
        _P,
        "complete machine-readable export: the access bundle (JSON, CSV per collection, HTML report with consent "
        "history, automated decisions and recipients) and portability JSON, for the verified person only (tests: "
        "tests/web/test_requests_api.py, tests/web/test_host_records_api.py, tests/requests/test_consent_steps.py);"
        f" personal centre pages: the {_CENTRE} and the Lubpur platform",
    ),
    "LUB-RECTIFY": Enforcement(
        _P,
        "charter.requests: rectification propagated to every store holding the category and to recipients, "
        "identities written normalised (test: tests/requests/test_runner.py; through HTTP: "
        "tests/web/test_requests_api.py)",
    ),
    "LUB-DELETE": Enforcement(
        _E,
        "charter.requests: erasure across SQLite/PostgreSQL/MariaDB/Redis, a broken data map failing visibly "
        "with nothing erased, recipients from the disclosure log notified with tracked acknowledgement, the "
        "consent ledger left as anonymised tombstones and the decision log without the subject (tests: "
        "tests/web/test_host_records_api.py, tests/web/test_requests_api.py, tests/requests/test_consent_steps.py, "
        "tests/requests/test_runner.py, tests/requests/test_crash.py)",
    ),
    "LUB-WITHDRAW": Enforcement(
        _E, f"withdrawal appends an event, takes effect in the next decision and never rewrites history (tests: "
            f"{_T_CONSENTS}, tests/sdk/test_client.py, tests/consent/test_services.py)"
    ),
    "LUB-CANCEL": Enforcement(
        _E,
        "charter.requests: a cancellation request disables the login first (signed webhook to the host, or "
        "GET /v1/account-closures), then erases or anonymises every dataset and restricts what retention keeps "
        "(tests: tests/web/test_host_records_api.py, tests/sdk/test_client_requests.py, "
        "tests/requests/test_consent_steps.py)",
    ),
    "LUB-AUTOMATED": Enforcement(
        _E,
        "the host records automated decisions with inputs, logic version and outcome; an explanation request "
        "sends the plain explanation; an appeal is a task staff decide (tests: tests/web/test_requests_api.py, "
        "tests/sdk/test_client_requests.py)",
    ),
    "LUB-VERIFY": Enforcement(
        _E,
        "verification (code or host assertion) before anything runs; refusal only with one of the grounds the "
        "jurisdictions allow and the policy lists, recorded and shown to the person; a missing or unknown ground "
        "is refused with nothing written (tests: tests/web/test_admin_requests_api.py, "
        "tests/web/test_requests_api.py, tests/policy/test_check.py)",
    ),
    "LUB-MINORS": Enforcement(
        _E,
        "date of birth or age band at registration; under the threshold decisions need a guardian-consent record "
        f"with every field; a policy may refuse minors outright (tests: {_T_CONSENTS}, tests/subjects/test_age.py,"
        " tests/sdk/test_client.py)",
    ),
    "LUB-STORAGE-CN": Enforcement(
        _P,
        f"{_CHECK} requires explicit consent among the cross-border bases; the transfer decision needs a mechanism, "
        f"separate consent and an impact assessment (tests: tests/policy/test_check.py, {_T_DECISIONS}); "
        f"{_DATAMAP_REGION}",
    ),
    "LUB-CHANGE": Enforcement(
        _P,
        f"{_DIFF}: a reduced right needs fresh consent and the banner asks again (test: tests/browser/test_banner.py);"
        " every version and a readable diff are public in the privacy centre (test: tests/web/center/test_policy.py);"
        " on the effective date, consents the change needs renewed are superseded in the ledger (test: "
        "tests/operations/test_changes.py)",
    ),
    "LUB-CONTACT": Enforcement(
        _P,
        "charter.policy.render shows the contacts on the rendered policy (test: tests/policy/test_render.py) and "
        "every privacy-centre page shows them (test: tests/web/center/test_policy.py); breach, transfer, disclosure "
        "and shutdown notices and the announcements page carry them (tests: tests/incidents/test_notices.py, "
        "tests/web/test_announcements_api.py)",
    ),
}


def enforcement(promise_id: str) -> Enforcement:
    return REGISTRY.get(promise_id, Enforcement(_N, "not in the promise catalogue"))


def coverage(policy: PolicyVersion) -> list[PromiseCoverage]:
    """Every promise of the policy's family, then any other catalogued id its clauses name, in that order."""
    clauses_of: dict[str, list[str]] = {}
    for clause in policy.clauses:
        for promise_id in clause.promises:
            clauses_of.setdefault(promise_id, []).append(clause.id)
    family = family_of(policy)
    ids = [p.id for p in promises_of(family)] if family is not None else []
    ids += [pid for pid in clauses_of if pid in CATALOGUE and pid not in ids]
    return [_row(pid, clauses_of.get(pid, [])) for pid in ids]


def _row(promise_id: str, clauses: list[str]) -> PromiseCoverage:
    rule = enforcement(promise_id)
    return PromiseCoverage(promise_id, tuple(dict.fromkeys(clauses)), rule.status, rule.by)
