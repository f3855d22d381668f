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


_P, _N = CoverageStatus.PARTIAL, CoverageStatus.NOT_YET

# What exists: policy schema/check/diff/render (tests/policy), jurisdiction rule packs (tests/jurisdictions),
# encrypted identities with blind index (tests/subjects), hash-chained audit log (tests/audit), argon2id staff
# passwords and API keys (tests/accounts), the data map with its checks, plan and connectors (tests/datamap,
# tests/connectors).
_CHECK = "charter.policy.check"
_DIFF = "charter.policy.diff classifies material changes (test: tests/policy/test_diff.py)"
_CONSENT = "consent ledger (issue 3)"
_REQUESTS = "requests (issue 4)"
_CENTRE = "privacy centre (issue 5)"
_RETENTION = "retention/incidents (issue 8)"
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
    "LAN-COLLECT-OPTIONAL": Enforcement(_N, f"{_CONSENT}: refusing an optional purpose never blocks basic service"),
    "LAN-COOKIES": Enforcement(_N, f"{_CENTRE}: consent banner recording the cookie choice server-side"),
    "LAN-USE": Enforcement(
        _P,
        f"{_CHECK} requires every purpose to name a legal basis and a consistent consent kind (test: "
        f"tests/policy/test_check.py); per-subject decisions: {_CONSENT}",
    ),
    "LAN-NEW-PURPOSE": Enforcement(
        _P, f"{_DIFF}: a new consent purpose needs fresh consent; denial until it is given: {_CONSENT}"
    ),
    "LAN-SHARE": Enforcement(
        _P,
        f"{_CHECK} requires every recipient to carry the PIPL art. 23 fields and an agreement (test: "
        f"tests/policy/test_check.py); sharing decision and disclosure log: {_CONSENT}",
    ),
    "LAN-MERGER": Enforcement(_N, "controller transfer with notices (issue 8)"),
    "LAN-LEGAL-DISCLOSURE": Enforcement(_N, "compelled-disclosure record and notice (issue 8)"),
    "LAN-STORAGE-HK": Enforcement(
        _P,
        f"{_CHECK} flags a recipient region outside the storage regions without a cross-border basis (test: "
        f"tests/policy/test_check.py); {_DATAMAP_REGION}; the transfer gate: {_CONSENT}",
    ),
    "LAN-RETENTION": Enforcement(_N, f"{_RETENTION}: retention rules, sweeps and legal holds"),
    "LAN-ACCOUNT-LINK": Enforcement(
        _P,
        "charter.subjects resolves several encrypted identities to one subject (test: tests/subjects); "
        "charter.datamap.plan covers every collection any of the linked identity kinds leads to (test: "
        f"tests/datamap/test_plan.py); running access and erasure across them: {_REQUESTS}",
    ),
    "LAN-SECURITY": Enforcement(_P, _SECURITY),
    "LAN-BREACH": Enforcement(_N, f"{_RETENTION}: incident workflow, notices and regulator report"),
    "LAN-RIGHTS": Enforcement(_N, f"{_REQUESTS}; self-service in the {_CENTRE}"),
    "LAN-VERIFY": Enforcement(_N, f"{_REQUESTS}: verification before execution, refusals with a ground"),
    "LAN-LIMITS": Enforcement(_N, f"{_REQUESTS}: held items reported to the person"),
    "LAN-WITHDRAW": Enforcement(_N, f"{_CONSENT}: withdrawal per purpose; cancellation: {_REQUESTS}"),
    "LAN-CHANGE": Enforcement(
        _P,
        f"{_DIFF}; the privacy centre announces a version before its effective date, with what changes (test: "
        "tests/web/center/test_policy.py); notices by email and the host's banner: outbox",
    ),
    # Lubpur
    "LUB-ACCEPT": Enforcement(
        _P,
        "charter.policy.hashing gives each version its content hash (test: tests/policy/test_hashing.py); "
        f"recording acceptance at registration: {_CONSENT}",
    ),
    "LUB-ACCOUNT-SECURITY": Enforcement(_N, f"{_CONSENT}: suspended accounts in decisions"),
    "LUB-SUBSCRIBE": Enforcement(_N, f"{_CONSENT}: marketing consent with double opt-in and one-click unsubscribe"),
    "LUB-PRINCIPLES": Enforcement(
        _P,
        f"{_CHECK} rejects a purpose or recipient naming an undeclared category (test: "
        f"tests/policy/test_check.py); undeclared-field scan of host data: {_REQUESTS}",
    ),
    "LUB-CATEGORIES": Enforcement(_N, f"{_REQUESTS}: each category mapped to where it is stored and exported"),
    "LUB-THIRD-PARTY-INFO": Enforcement(_N, f"{_REQUESTS}: attestation and export/erasure for the other person"),
    "LUB-COOKIE-COLLECT": Enforcement(_N, f"{_CENTRE}: consent banner (as LAN-COOKIES)"),
    "LUB-USE": Enforcement(
        _P,
        f"{_CHECK} validates the declared purposes (test: tests/policy/test_check.py); de-identified analytics "
        "exports (issue 8)",
    ),
    "LUB-CONSENT-DURATION": Enforcement(_N, f"{_CONSENT}: consent state per purpose with history"),
    "LUB-EXCEPTIONS": Enforcement(
        _P,
        "every legal basis of PIPL art. 13 is in the schema and in charter.jurisdictions (tests: "
        f"tests/policy, tests/jurisdictions); decisions that name their basis: {_CONSENT}",
    ),
    "LUB-SHUTDOWN": Enforcement(_N, "cease-operations procedure (issue 8)"),
    "LUB-BEACONS": Enforcement(_N, f"{_CONSENT}: open/click tracking as its own purpose, left out for refusers"),
    "LUB-SHARE": Enforcement(
        _P,
        f"{_CHECK} requires recipients' PIPL art. 23 fields and separate consent for sensitive categories "
        f"(test: tests/policy/test_check.py); sharing decision: {_CONSENT}",
    ),
    "LUB-TRANSFER": Enforcement(_N, "controller transfer (as LAN-MERGER) (issue 8)"),
    "LUB-PUBLIC": Enforcement(
        _P,
        f"{_CHECK} requires separate consent for a public-disclosure purpose (test: tests/policy/test_check.py); "
        f"logging of disclosures: {_CONSENT}",
    ),
    "LUB-DEIDENTIFIED": Enforcement(_N, "de-identification transform and check (issue 8)"),
    "LUB-SECURITY": Enforcement(_P, f"{_SECURITY}; retention: {_RETENTION}"),
    "LUB-BREACH": Enforcement(
        _N, f"{_RETENTION}: notices checked for every element charter.jurisdictions requires before sending"
    ),
    "LUB-ACCESS": Enforcement(_N, f"{_CENTRE} pages; machine-readable export: {_REQUESTS}"),
    "LUB-RECTIFY": Enforcement(_N, f"{_REQUESTS}: rectification propagated to every store"),
    "LUB-DELETE": Enforcement(_N, f"{_REQUESTS}: erasure across datasets and recipients, acknowledgements tracked"),
    "LUB-WITHDRAW": Enforcement(_N, f"{_CONSENT}: withdrawal effective at once, history kept"),
    "LUB-CANCEL": Enforcement(_N, f"{_REQUESTS}: cancellation ending in erasure/anonymisation"),
    "LUB-AUTOMATED": Enforcement(_N, f"{_REQUESTS}: recorded automated decisions, explanation and appeal"),
    "LUB-VERIFY": Enforcement(
        _N,
        f"{_REQUESTS}: verification and refusals; the six grounds exist in charter.jurisdictions and "
        f"{_CHECK} accepts only known grounds (test: tests/policy/test_check.py)",
    ),
    "LUB-MINORS": Enforcement(_N, f"{_CONSENT}: minor flag and guardian consent"),
    "LUB-STORAGE-CN": Enforcement(
        _P,
        f"{_CHECK} requires explicit consent among the cross-border bases for data leaving the mainland (test: "
        f"tests/policy/test_check.py); {_DATAMAP_REGION}; the transfer gate: {_CONSENT}",
    ),
    "LUB-CHANGE": Enforcement(
        _P,
        f"{_DIFF}: a reduced right needs fresh consent; every version and a readable diff are public in the "
        f"privacy centre (test: tests/web/center/test_policy.py); the re-consent prompt: {_CENTRE}",
    ),
    "LUB-CONTACT": Enforcement(
        _P,
        "charter.policy.render shows the contacts on the rendered policy (test: tests/policy/test_render.py) and "
        "every privacy-centre page shows them (test: tests/web/center/test_policy.py); notices: outbox",
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
