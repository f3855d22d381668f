"""How a page names a person without showing their address in full: `a••@example.com`, `+86•••••••8000`.

Used where someone must recognise whom they continue as (a host's link, a guardian choosing among their children)
but the page may be seen before anyone has proved who they are.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from charter.subjects.normalise import IdentityKind
from charter.subjects.services import SubjectDirectory

DOT = "\u2022"
_RANK = {IdentityKind.EMAIL: 0, IdentityKind.PHONE: 1, IdentityKind.ACCOUNT_ID: 2}


def masked(kind: IdentityKind, value: str) -> str:
    """The first character of an email's local part and its domain; a phone's country code and last four digits.

    >>> masked(IdentityKind.EMAIL, "ann@example.com")
    'a••@example.com'
    >>> masked(IdentityKind.PHONE, "+8613800138000")
    '+86•••••••8000'
    """
    if kind is IdentityKind.EMAIL and "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}{DOT * max(len(local) - 1, 2)}@{domain}"
    if kind is IdentityKind.PHONE:
        head = 3 if value.startswith("+") else 0
        return f"{value[:head]}{DOT * max(len(value) - head - 4, 2)}{value[-4:]}"
    return f"{value[:2]}{DOT * max(len(value) - 2, 3)}"


def masked_identity(request: Request, db: Session, controller_id: str, subject_id: str) -> str:
    """The person's email (else phone, else account id), masked; empty if Charter knows none of them."""
    known = [i for i in SubjectDirectory(db, request.app.state.keyring).identities(controller_id, subject_id)
             if i.kind in _RANK]
    if not known:
        return ""
    best = min(known, key=lambda i: _RANK[i.kind])
    return masked(best.kind, best.value)
