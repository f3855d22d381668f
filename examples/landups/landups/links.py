"""Linked accounts (LAN-ACCOUNT-LINK): a console account and a landups.com account held by the same person.

Linking needs the landups.com account's password, so no one can claim someone else's account; Charter is told
about the link so a request made through either account covers both.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from landups.accounts import clean_password, hash_password, password_matches
from landups.forms import FieldErrors, Form, ValidationFailed
from landups.identifiers import clean_email
from landups.models import AccountLink, SiteAccount, User
from landups.privacy import Subject

SITE = "landups.com"
# Console account ids (`LU` + 10 digits) and landups.com usernames are both Charter `account_id` identities:
# a username shaped like a console id is refused, so the two can never be confused.
CONSOLE_ACCOUNT_ID = re.compile(r"^LU[0-9]{10}$")


def subject_of(session: Session, user: User) -> Subject:
    """The person as Charter knows them, with every account linked to this one."""
    linked = session.scalars(
        select(SiteAccount.username).join(AccountLink, AccountLink.site_account_id == SiteAccount.id)
        .where(AccountLink.user_id == user.id).order_by(SiteAccount.username))
    return Subject.of(user, list(linked))


class LinkService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create_site_account(self, form: Form) -> SiteAccount:
        errors = FieldErrors()
        username = form.text("username")
        if not (3 <= len(username) <= 40 and username.isascii() and username.replace("_", "").isalnum()) \
                or CONSOLE_ACCOUNT_ID.match(username.upper()):
            errors["username"] = "err.username"
        elif self.session.scalar(select(SiteAccount.id).where(SiteAccount.username == username)) is not None:
            errors["username"] = "err.username_taken"
        email = errors.check("email", clean_email, form.text("email"))
        password = clean_password(form.raw("password"), errors)
        errors.raise_if_any()
        account = SiteAccount(username=username, email=email, password_hash=hash_password(password))
        self.session.add(account)
        self.session.flush()
        return account

    def link(self, user: User, form: Form) -> SiteAccount:
        account = self.session.scalar(select(SiteAccount).where(SiteAccount.username == form.text("username")))
        if account is None or not password_matches(account.password_hash, form.raw("password")):
            raise ValidationFailed({"username": "err.link_credentials"})
        if self.session.scalar(select(AccountLink.id).where(AccountLink.site_account_id == account.id)) is not None:
            raise ValidationFailed({"username": "err.link_taken"})
        if self.linked(user) is not None:
            raise ValidationFailed({"username": "err.link_exists"})
        self.session.add(AccountLink(user_id=user.id, site=SITE, site_account_id=account.id))
        self.session.flush()
        return account

    def linked(self, user: User) -> SiteAccount | None:
        return self.session.scalar(
            select(SiteAccount).join(AccountLink, AccountLink.site_account_id == SiteAccount.id)
            .where(AccountLink.user_id == user.id))

    def unlink(self, user: User) -> SiteAccount | None:
        link = self.session.scalar(select(AccountLink).where(AccountLink.user_id == user.id))
        if link is None:
            return None
        account = self.session.get(SiteAccount, link.site_account_id)
        self.session.delete(link)
        self.session.flush()
        return account
