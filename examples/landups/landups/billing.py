"""Bank account for billing (purpose billing): sealed at rest, masked in every view."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from landups.crypto import Sealer
from landups.db import utcnow
from landups.forms import FieldErrors, Form
from landups.identifiers import clean_bank_account, clean_text, mask_bank_account
from landups.models import BankAccount, User


@dataclass(frozen=True)
class MaskedBankAccount:
    bank_name: str
    holder: str
    number: str          # `•••• 6789`
    updated_at: str


def _mask_holder(name: str) -> str:
    return name[0] + "*" * max(1, len(name) - 1) if name else ""


class BillingService:
    def __init__(self, session: Session, fields: Sealer) -> None:
        self.session = session
        self.fields = fields

    @staticmethod
    def context(column: str, user_id: int) -> str:
        return f"bank_accounts.{column}:{user_id}"

    def save(self, user: User, form: Form) -> BankAccount:
        errors = FieldErrors()
        bank = errors.check("bank_name", lambda v: clean_text(v, max_length=100), form.text("bank_name"))
        holder = errors.check("holder", lambda v: clean_text(v, max_length=100), form.text("holder"))
        number = errors.check("account_number", clean_bank_account, form.text("account_number"))
        errors.raise_if_any()
        row = self.session.scalar(select(BankAccount).where(BankAccount.user_id == user.id))
        if row is None:
            row = BankAccount(user_id=user.id)
            self.session.add(row)
        row.bank_name = bank
        row.holder_sealed = self.fields.seal_text(holder, self.context("holder_sealed", user.id))
        row.number_sealed = self.fields.seal_text(number, self.context("number_sealed", user.id))
        row.updated_at = utcnow()
        self.session.flush()
        return row

    def masked(self, user: User) -> MaskedBankAccount | None:
        row = self.session.scalar(select(BankAccount).where(BankAccount.user_id == user.id))
        if row is None:
            return None
        holder = self.fields.open_text(row.holder_sealed, self.context("holder_sealed", user.id))
        number = self.fields.open_text(row.number_sealed, self.context("number_sealed", user.id))
        return MaskedBankAccount(bank_name=row.bank_name, holder=_mask_holder(holder),
                                 number=mask_bank_account(number), updated_at=row.updated_at.isoformat())
