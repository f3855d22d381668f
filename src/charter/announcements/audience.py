"""Everyone a controller can tell something to individually: each person Charter knows, by every channel their
identities allow (email → email, phone → SMS when the controller has an SMS webhook, account id → push when it
has a push webhook) and in-app, each in their language (the one of their latest consent, else the policy's
first). Read a page at a time, never all at once.

    for recipient in Audience(session, keyring).everyone("acme"):
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charter.announcements.services import offered_languages, policy_in_force
from charter.consent.models import ConsentEvent
from charter.core.crypto import Keyring
from charter.core.i18n import Lang
from charter.outbox import Channel, WebhookEndpoints
from charter.subjects.models import Identity

__all__ = ["Audience", "Recipient", "channels_for"]

PAGE = 1000


@dataclass(frozen=True)
class Recipient:
    channel: Channel
    to: str | None
    """The address, number or account; None for an in-app notice."""
    subject_id: str | None
    language: Lang
    key: str
    """Stable and unique per person and channel: with the notice's id it makes the message's idempotency key."""


LanguageOf = Callable[[str | None], Lang]


def preferred_languages(session: Session, controller_id: str, subject_ids: Iterable[str | None],
                        default: Lang) -> dict[str, Lang]:
    """Each person's language: the one of their latest consent (the notice they read), else `default`."""
    wanted = {s for s in subject_ids if s is not None}
    found: dict[str, tuple[int, str]] = {}
    if wanted:
        rows = session.execute(select(ConsentEvent.subject_id, ConsentEvent.seq, ConsentEvent.language).where(
            ConsentEvent.controller_id == controller_id, ConsentEvent.subject_id.in_(wanted))).all()
        for subject_id, seq, language in rows:
            if subject_id is not None and (subject_id not in found or seq > found[subject_id][0]):
                found[subject_id] = (seq, language)
    out = dict.fromkeys(wanted, default)
    for subject_id, (_seq, language) in found.items():
        try:
            out[subject_id] = Lang.parse(language)
        except ValueError:
            continue
    return out


def channels_for(session: Session, keyring: Keyring, controller_id: str) -> dict[str, Channel]:
    """Identity kind → the channel that reaches it, for this controller's configured transports."""
    hooks = WebhookEndpoints(session, keyring)
    found = {"email": Channel.EMAIL}
    if hooks.target(controller_id, Channel.SMS) is not None:
        found["phone"] = Channel.SMS
    if hooks.target(controller_id, Channel.PUSH) is not None:
        found["account_id"] = Channel.PUSH
    return found


class Audience:
    def __init__(self, session: Session, keyring: Keyring, *, language_of: LanguageOf | None = None) -> None:
        self.session = session
        self.keyring = keyring
        self._language_of = language_of

    def default_language(self, controller_id: str) -> Lang:
        return offered_languages(policy_in_force(self.session, controller_id))[0]

    def languages_of(self, controller_id: str, subject_ids: Iterable[str | None]) -> LanguageOf:
        """A lookup of these people's languages (`preferred_languages`), or the override given."""
        if self._language_of is not None:
            return self._language_of
        default = self.default_language(controller_id)
        known = preferred_languages(self.session, controller_id, subject_ids, default)
        return lambda subject_id: known.get(subject_id or "", default)

    def everyone(self, controller_id: str, *, in_app: bool = True) -> Iterator[Recipient]:
        """Each person by each reachable channel, and once in-app; identities in the order they were linked."""
        return self._recipients(controller_id, None, in_app=in_app)

    def person(self, controller_id: str, subject_id: str, *, in_app: bool = True) -> Iterator[Recipient]:
        """One person by each channel their identities allow, and in-app."""
        return self._recipients(controller_id, subject_id, in_app=in_app)

    def _recipients(self, controller_id: str, subject_id: str | None, *, in_app: bool) -> Iterator[Recipient]:
        channels = channels_for(self.session, self.keyring, controller_id)
        context = f"identities.value:{controller_id}"
        after = 0
        while True:
            q = select(Identity).where(Identity.controller_id == controller_id, Identity.id > after)
            if subject_id is not None:
                q = q.where(Identity.subject_id == subject_id)
            page = list(self.session.execute(q.order_by(Identity.id).limit(PAGE)).scalars())
            if not page:
                return
            firsts = self._firsts(page) if in_app else set()
            language_of = self.languages_of(controller_id, {identity.subject_id for identity in page})
            for identity in page:
                language = language_of(identity.subject_id)
                channel = channels.get(identity.kind)
                if channel is not None:
                    yield Recipient(channel, self.keyring.decrypt(identity.value_encrypted, context),
                                    identity.subject_id, language, f"{identity.kind}:{identity.index_hash[:32]}")
                # A person's first identity carries their one in-app notice; later pages never repeat it.
                if identity.id in firsts:
                    yield Recipient(Channel.IN_APP, None, identity.subject_id, language,
                                    f"in_app:{identity.subject_id}")
            after = page[-1].id

    def _firsts(self, page: list[Identity]) -> set[int]:
        subjects = {identity.subject_id for identity in page}
        return set(self.session.execute(select(func.min(Identity.id)).where(Identity.subject_id.in_(subjects))
                                        .group_by(Identity.subject_id)).scalars())
