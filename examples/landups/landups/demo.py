"""Demo data for `python -m landups seed` and `charter demo`: a support staff login, a landups.com account and a
registered console user, each made once through the same code as the forms.

`charter demo` runs `python -m landups seed` with the passwords it shows the operator (`LANDUPS_STAFF_PASSWORD`,
`LANDUPS_DEMO_USER_PASSWORD`); without them each login made gets a random password, printed once. The demo user's
sign-up and choices are queued for Charter like any registration's and reach it when the connected server
starts (`LANDUPS_CHARTER_*`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from landups.accounts import AccountService, Registration
from landups.db import unit_of_work
from landups.forms import Form
from landups.i18n import Lang
from landups.links import LinkService, subject_of
from landups.models import SiteAccount, StaffMember, User
from landups.privacy import Evidence, NotConnected, Privacy
from landups.settings import Settings
from landups.staffdesk import StaffService
from landups.web.app import build_state
from landups.web.context import AppState

STAFF_EMAIL = "support@landups.example"
USER_EMAIL = "demo@landups.example"
SITE_USERNAME = "demo_site"
DEMO_CHOICES = {"surveys": True, "recommendations": True}
"""What the demo user ticked at sign-up (the other optional purposes stay unticked), so the console shows its
invitations and recommendations; withdraw them on /account/privacy or in the privacy centre."""


@dataclass(frozen=True)
class Made:
    role: str
    login: str
    password: str | None   # None: it existed already and keeps its password


def prepare(state: AppState, *, staff_password: str | None = None, user_password: str | None = None) -> list[Made]:
    """Create the schema's demo rows once; returns each login, with its password when this call made it."""
    made: list[Made] = []
    with unit_of_work(state.factory) as session:
        if session.scalar(select(StaffMember.id).where(StaffMember.email == STAFF_EMAIL)) is None:
            password = staff_password or secrets.token_urlsafe(12)
            StaffService(session).create(STAFF_EMAIL, "Support", password)
            made.append(Made("support desk (/staff/login)", STAFF_EMAIL, password))
        else:
            made.append(Made("support desk (/staff/login)", STAFF_EMAIL, None))
        if session.scalar(select(SiteAccount.id).where(SiteAccount.username == SITE_USERNAME)) is None:
            password = secrets.token_urlsafe(12)
            LinkService(session).create_site_account(Form(fields={
                "username": SITE_USERNAME, "email": USER_EMAIL, "password": password}))
            made.append(Made("landups.com account (link it under /account/links)", SITE_USERNAME, password))
        if session.scalar(select(User.id).where(User.email == USER_EMAIL)) is None:
            password = user_password or secrets.token_urlsafe(12)
            user = AccountService(session).register(Registration(
                email=USER_EMAIL, password=password, name="陳大文", phone="+85291234567", account_type="personal",
                language=Lang.ZH_TW, choices=dict(DEMO_CHOICES)), policy_version=state.policy.version)
            offered = {p.id: DEMO_CHOICES.get(p.id, False) for p in state.policy.consent_purposes_at_registration()}
            # Queued like a registration's reports; the connected server delivers them (NotConnected only queues).
            privacy = Privacy(session, NotConnected(), state.policy)
            subject = subject_of(session, user)
            privacy.register_subject(user, subject)
            privacy.record_registration_consent(user, subject, offered, Evidence(
                ip="127.0.0.1", user_agent="charter demo (seed)", language=Lang.ZH_TW.value))
            made.append(Made("console user (/login)", USER_EMAIL, password))
        else:
            made.append(Made("console user (/login)", USER_EMAIL, None))
    return made


def seed(settings: Settings, *, staff_password: str | None = None, user_password: str | None = None) -> list[str]:
    """`prepare` on the database `settings` name (schema created if missing); the lines to show the operator."""
    state = build_state(settings, NotConnected())   # seeding talks to no one; the server delivers what it queued
    try:
        made = prepare(state, staff_password=staff_password, user_password=user_password)
    finally:
        state.engine.dispose()
    lines = [f"Landups at {settings.base_url}  (data: {settings.data_dir})"]
    for m in made:
        lines.append(f"  {m.role}: {m.login} / {m.password}" if m.password else
                     f"  {m.role}: {m.login} (exists; password unchanged)")
    return lines
