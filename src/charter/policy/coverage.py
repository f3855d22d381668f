"""Which promises Charter keeps today, and by what: an honest registry, one row per catalogue id.

A promise is `enforced` only when a test drives it through the real code path and asserts the outcome;
`partial` when part of what PROMISES.md asks is built and tested, and the row says what is still missing;
`not_yet` names the issue that will build it. Later issues change rows here and nothing else.
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

# Tests named here exist (tests/policy/test_coverage.py checks it). The reference platforms' tests live in
# tests/examples/lubpur and tests/examples/landups: their HTTP tests run the platform for real, the *_live,
# test_charter_privacy and journey tests run it against a live Charter through the public SDK.
_CHECK = "charter.policy.check"
_DIFF = "charter.policy.diff classifies material changes (test: tests/policy/test_diff.py)"
_T_CONSENTS = "tests/web/test_consents_api.py"
_T_DECISIONS = "tests/web/test_decisions_api.py"
_T_BANNER = "tests/web/test_banner_api.py, tests/browser/test_banner.py"
_BANNER = (
    "charter.consent.banner and /static/charter-consent.js: categories from the policy, nothing non-essential set "
    "or run before the choice, the choice recorded in the ledger and changeable from a link, GPC applied "
    f"(tests: {_T_BANNER})"
)
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
    "TOTP second factor and attempt limits, and audits staff reads of personal data (tests: tests/web/admin)"
)
_NO_BACKUPS = "missing: backups with a verified restore (nothing in Charter or the reference platforms makes one)"
_T_LAN_JOURNEY = "tests/examples/landups/test_journey_browser.py"
_T_LUB_JOURNEY = "tests/examples/lubpur/test_journey_with_charter.py"

REGISTRY: dict[str, Enforcement] = {
    # Landups
    "LAN-SCOPE": Enforcement(
        _P,
        "the schema has the independent_controller role, and the Landups policy, which declares its marketplace "
        "provider as one, publishes (test: tests/web/test_policies_examples.py); hand-overs are logged (POST "
        "/v1/disclosures, SDK report_disclosure) and the access bundle lists each recipient with the categories it "
        "received (tests: tests/web/test_host_records_api.py, tests/sdk/test_client_requests.py); Landups reports "
        "each support-desk hand-over and its export names which third party holds what (tests: "
        f"{_T_LAN_JOURNEY}, tests/examples/landups/test_charter_live.py); "
        "missing: no test hands data to an independent controller (Landups' marketplace-provider hand-over of "
        "third-party orders) or asserts that the export marks a recipient as one (is_independent_controller)",
    ),
    "LAN-COLLECT-ACCOUNT": Enforcement(
        _E,
        f"{_CHECK} requires every purpose's categories to be declared and sensitive ones (bank account, ID number "
        "and photo) to carry separate consent, and the Landups policy publishes (tests: tests/policy/test_check.py, "
        "tests/web/test_policies_examples.py); every Landups column holding a category is in its data map (test: "
        "tests/examples/landups/test_datamap.py); real-name authentication over HTTP: HKID, mainland ID and USCC "
        "validated, bad input stores nothing, the ID number sealed in its column and the ID photo sealed on disk "
        "(test: tests/examples/landups/test_realname_http.py); the bank account sealed and only ever shown masked "
        f"(test: tests/examples/landups/test_features_http.py); walked in Chromium ({_T_LAN_JOURNEY})",
    ),
    "LAN-COLLECT-USAGE": Enforcement(
        _P,
        "Landups records every login attempt and page view (test: tests/examples/landups/test_accounts_http.py); "
        "its data map declares them as the dataset landups_usage under the 180-day rule usage_records, published "
        "and accepted by Charter (tests/examples/landups/test_charter_live.py); the access export carries the login "
        f"records (tests: {_T_LAN_JOURNEY}, tests/examples/landups/test_charter_live.py); cancellation erases them "
        "(test: tests/examples/landups/test_charter_live.py); missing: no test asserts the usage dataset's rule or "
        "runs the retention sweep over Landups' login_events and page_views (the sweep itself is tested on other "
        f"data maps: {_T_RETENTION})",
    ),
    "LAN-COLLECT-OPTIONAL": Enforcement(
        _E,
        "charter.decisions never lets a declined optional purpose refuse an essential one (PIPL art. 16) (tests: "
        f"{_T_DECISIONS}, tests/decisions/test_core.py); Landups registered with every optional consent refused "
        "collects nothing optional, each feature (website filing, cloud market, membership, offline delivery, "
        "product testing) collects its own fields only when used, and a third-party product needs the separate "
        "consent while Landups' own products never do (test: tests/examples/landups/test_features_http.py); ID "
        "photos sealed at rest (AES-256-GCM), shown only to their owner or to staff giving a reason, every read "
        "recorded (tests: tests/examples/landups/test_realname_http.py, "
        "tests/examples/landups/test_staff_and_consent_http.py)",
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
        _E,
        f"{_CHECK} requires every recipient to carry the PIPL art. 23 fields and an agreement; the sharing decision "
        f"checks the recipient's purposes, record, agreement and separate consent (tests: tests/policy/test_check.py,"
        f" {_T_DECISIONS}, tests/decisions/test_core.py); each disclosure is logged and appears in the access "
        "bundle with the categories the recipient received (tests: tests/web/test_host_records_api.py, "
        "tests/sdk/test_client_requests.py); Landups hands nothing over without Charter's yes (nothing while it "
        "is not connected) and reports each hand-over, which the person's export then shows (tests: "
        f"tests/examples/landups/test_staff_and_consent_http.py, {_T_LAN_JOURNEY})",
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
        _E,
        f"{_CHECK} flags a recipient region outside the storage regions without a cross-border basis; the transfer "
        f"decision denies without a mechanism, separate consent and an impact assessment (tests: "
        f"tests/policy/test_check.py, {_T_DECISIONS}); {_DATAMAP_REGION}; every Landups dataset is in Hong Kong "
        "(test: tests/examples/landups/test_datamap.py)",
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
        "Landups proves a landups.com account is the person's and queues the SDK identify call that links its "
        "account id to the same subject (test: tests/examples/landups/test_features_http.py); missing: no test "
        "delivers that link to a live Charter and shows a request covering the linked account's rows "
        "(site_accounts), and Charter has no call to unlink an identity (Landups' unlink is delivered as a no-op)",
    ),
    "LAN-SECURITY": Enforcement(
        _P,
        f"{_SECURITY}; Landups hashes passwords with argon2id, locks logins after repeated failures and records "
        "every staff read of a person's data with its reason (tests: tests/examples/landups/test_accounts_http.py, "
        f"tests/examples/landups/test_staff_and_consent_http.py); {_NO_BACKUPS}",
    ),
    "LAN-BREACH": Enforcement(
        _E,
        "charter.incidents: record → people affected resolved from the data map and the window → notices carrying "
        "every required element (email, SMS, push, in-app, announcement) → regulator report (zh/en, Markdown/PDF); "
        f"clocks with what is overdue; every step audited (tests: {_T_INCIDENTS})",
    ),
    "LAN-RIGHTS": Enforcement(
        _E,
        "charter.requests over HTTP and the SDK: access with its bundle, erasure, rectification, restriction, "
        "withdrawal, cancellation, explanation, each verified first and carried out in the controller's databases, "
        "staff approving or refusing what needs a person (tests: tests/web/test_requests_api.py, "
        "tests/web/test_admin_requests_api.py, tests/sdk/test_client_requests.py, tests/requests/test_runner.py); "
        "self-service in the privacy centre: see what is held, download a copy, erase (tests: "
        "tests/web/center/test_personal.py, tests/browser/test_privacy_centre_journeys.py); Landups' own profile "
        "edits, and from its centre link an access export, an address corrected in Landups' table and a "
        f"cancellation (tests: tests/examples/landups/test_accounts_http.py, {_T_LAN_JOURNEY})",
    ),
    "LAN-VERIFY": Enforcement(
        _E,
        "charter.requests: six-digit code (hashed, 10 min, lockout) or single-use host assertion before any "
        "task runs, an unknown person answered like a known one; refusal only with an enumerated ground, nothing "
        "written without one (tests: tests/web/test_requests_api.py, tests/web/test_admin_requests_api.py, "
        "tests/sdk/test_client_requests.py, tests/requests/test_verification.py)",
    ),
    "LAN-LIMITS": Enforcement(
        _E,
        "charter.requests: retention-locked fields become held items with their reason, told to the person and "
        "shown in the request's status; after a cancellation they are restricted (tests: "
        "tests/web/test_host_records_api.py, tests/requests/test_runner.py, tests/requests/test_consent_steps.py); "
        "a legal hold keeps the collections it covers out of an erasure and the person's view of the request "
        "reports them as held until its expiry (test: tests/retention/test_requests.py; holds over HTTP: "
        "tests/web/test_retention_api.py); the privacy centre shows the person what a cancellation kept (tests: "
        f"{_T_LAN_JOURNEY}, {_T_LUB_JOURNEY})",
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
        _P,
        f"suspension and unsuspension deny non-essential processing (tests: {_T_DECISIONS}, "
        "tests/sdk/test_client.py); in Lubpur, reporting unauthorised use (password re-entered) suspends the "
        "account at once: sessions ended, login refused (test: tests/examples/lubpur/test_accounts.py), and Charter "
        "then denies its non-essential purposes (test: tests/examples/lubpur/test_charter_privacy.py); missing: "
        "the suspension is written to the audit log (subject.suspended) but no test asserts that event",
    ),
    "LUB-SUBSCRIBE": Enforcement(
        _E,
        "marketing email is its own consent purpose, its decisions carry unsubscribe_link, and withdrawal (method "
        f"unsubscribe_link) takes effect at once (tests: {_T_DECISIONS}, tests/sdk/test_client.py); Lubpur "
        "subscribes only after the emailed confirmation link, every newsletter carries List-Unsubscribe with "
        "One-Click (RFC 8058) and a link in the body, and unsubscribing stops the next issue and deletes the "
        "subscription at once (test: tests/examples/lubpur/test_subscriptions.py); with Charter, confirmed from "
        f"the inbox and in the ledger as double_opt_in ({_T_LUB_JOURNEY})",
    ),
    "LUB-PRINCIPLES": Enforcement(
        _P,
        f"{_CHECK} rejects a purpose or recipient naming an undeclared category (test: "
        "tests/policy/test_check.py); charter.datamap.check refuses a data-map field holding a category the "
        "policy does not declare (test: tests/datamap/test_check.py); each reference platform's tests keep every "
        "column holding personal data in its data map (tests: tests/examples/lubpur/test_datamap.py, "
        "tests/examples/landups/test_datamap.py); missing: Charter has no undeclared-field scan of a host's "
        "stores (a column left out of the data map goes unnoticed unless the host tests for it), and nothing "
        "checks that a store's categories are ones its purpose declares",
    ),
    "LUB-CATEGORIES": Enforcement(
        _P,
        "the Lubpur policy declares the clause's categories and publishes (test: "
        "tests/web/test_policies_examples.py); every Lubpur column holding personal data is mapped to a "
        "declared category (tests: tests/examples/lubpur/test_datamap.py, tests/datamap/test_check.py); the "
        "export read back holds the account, footprints, favourites, downloads, purchase requests, consultations "
        f"and subscription ({_T_LUB_JOURNEY}); missing: five declared categories (online.software_use, "
        "property.transactions, other.location, other.voice, other.pictures) are mapped to no store, and nothing "
        "checks that every declared category is either stored somewhere or marked as not collected",
    ),
    "LUB-THIRD-PARTY-INFO": Enforcement(
        _P,
        "Lubpur refuses a purchase request naming someone else's contact without the submitter's attestation "
        "and records when it was given; the contact's email and phone stay findable (test: "
        "tests/examples/lubpur/test_personal_centre.py) and are identities in the data map; missing: the other "
        "person cannot ask: Charter sends a verification code only to an identity it already knows, the contact "
        "is never made known to it, and Lubpur offers no route that vouches for them, so no test (and no path) "
        "exports or erases the record on their request",
    ),
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
        _E,
        "email tracking is its own purpose and email decisions carry no_tracking for those without it (test: "
        f"{_T_DECISIONS}); Lubpur puts the open pixel and click redirects only in mail to those who allowed it, "
        "a stop-tracking link takes effect at once and a later hit on an old pixel records nothing (test: "
        "tests/examples/lubpur/test_subscriptions.py); a refusal recorded in Charter takes the pixel out of the "
        f"next newsletter (tests: tests/examples/lubpur/test_charter_privacy.py, {_T_LUB_JOURNEY})",
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
        f"(tests: tests/policy/test_check.py, {_T_DECISIONS}); missing: nothing records a disclosure made public "
        "because of a violation with its grounds (charter.operations.disclosure records disclosures compelled by "
        "an authority, not these)",
    ),
    "LUB-DEIDENTIFIED": Enforcement(
        _E,
        "charter.operations.deidentify: the transform, a check that no direct identifier (email, phone, ID-card or "
        "bank-card number, the row's own identities) survives — the export is refused otherwise — and each export "
        f"logged as de-identified (tests: {_T_OPERATIONS}, tests/operations/test_exports.py, "
        "tests/operations/test_deidentify.py)",
    ),
    "LUB-SECURITY": Enforcement(
        _P,
        f"{_SECURITY}; retention as LAN-RETENTION (tests: {_T_RETENTION}); Lubpur hashes passwords with argon2id "
        "and records every login attempt (test: tests/examples/lubpur/test_accounts.py); collection limits as "
        f"LUB-PRINCIPLES; {_NO_BACKUPS}",
    ),
    "LUB-BREACH": Enforcement(
        _E,
        "charter.incidents: a notice missing any element its jurisdictions require is refused naming it; channels "
        f"email/SMS/push/in-app, a public announcement, the regulator report (tests: {_T_INCIDENTS}, "
        "tests/incidents/test_elements.py)",
    ),
    "LUB-ACCESS": Enforcement(
        _E,
        "complete machine-readable export: the access bundle (JSON, CSV per collection, HTML report with consent "
        "history, automated decisions and recipients) and portability JSON, for the verified person only (tests: "
        "tests/web/test_requests_api.py, tests/web/test_host_records_api.py, tests/requests/test_consent_steps.py);"
        " Lubpur's personal centre: account information (phone, avatar, WeChat, QQ, address, company and its "
        "address, position), purchase requests, customer-service consultations, favourites, footprints, points "
        "(tests: tests/examples/lubpur/test_personal_centre.py, tests/examples/lubpur/test_catalogue.py); from "
        "Lubpur's link into Charter's centre, the export downloaded in Chromium and read back "
        f"({_T_LUB_JOURNEY})",
    ),
    "LUB-RECTIFY": Enforcement(
        _E,
        "charter.requests: rectification propagated to every store holding the category and to recipients, "
        "identities written normalised (test: tests/requests/test_runner.py; through HTTP: "
        "tests/web/test_requests_api.py); self-service: Lubpur's account information (test: "
        "tests/examples/lubpur/test_personal_centre.py), and a correction asked in Charter's centre reaching "
        f"Landups' table ({_T_LAN_JOURNEY})",
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
        f"{_DATAMAP_REGION}; Lubpur's data map, stored in the mainland, publishes under that check "
        f"({_T_LUB_JOURNEY}); a transfer the law requires rests on that law (legal-duty purpose, no consent "
        "asked), any other needs an art. 38 mechanism besides separate consent (test: tests/decisions/test_core.py); "
        "missing: user_publication has no effect (a transfer because the user published across borders is decided "
        "like any other)",
    ),
    "LUB-CHANGE": Enforcement(
        _E,
        f"{_DIFF}: a reduced right needs fresh consent and the banner asks again (test: tests/browser/test_banner.py);"
        " every version and a readable diff are public in the privacy centre (test: tests/web/center/test_policy.py);"
        " on the effective date, consents the change needs renewed are superseded in the ledger (test: "
        "tests/operations/test_changes.py); the centre asks for each changed consent before any other page opens "
        "(tests: tests/web/center/test_personal.py, tests/browser/test_privacy_centre_journeys.py), and Lubpur "
        "asks a user on an older version to accept again before going on (test: "
        "tests/examples/lubpur/test_accounts.py)",
    ),
    "LUB-CONTACT": Enforcement(
        _E,
        "charter.policy.render shows the contacts on the rendered policy (test: tests/policy/test_render.py) and "
        "every privacy-centre page shows them, signed in or not (tests: tests/web/center/test_policy.py, "
        "tests/web/center/test_personal.py); breach, transfer, disclosure and shutdown notices and the "
        "announcements page carry them (tests: tests/incidents/test_notices.py, tests/web/test_announcements_api.py); "
        "every other message (request news, policy changes, appeal outcomes) names the policy's first contact in "
        "its footer, in its language (test: tests/outbox/test_services.py)",
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
