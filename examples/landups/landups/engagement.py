"""The consent-based uses of policy 4: survey invitations (surveys), recommendations of related services
(recommendations) and service analytics (optimisation). Each asks Charter first, every time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from landups.catalogue import BY_SKU, PRODUCTS, Product
from landups.db import utcnow
from landups.i18n import Lang
from landups.links import subject_of
from landups.mail import Letter
from landups.messages import translate
from landups.models import AnalyticsEvent, CloudOrder, SurveyInvitation, User
from landups.privacy import Privacy, Subject
from landups.usage import ClientInfo

SURVEYS = ("console-2024", "support-2024")


@dataclass(frozen=True)
class SurveyRun:
    sent: int
    denied: int          # Charter said no (or is not connected): no invitation
    already: int
    letters: tuple[Letter, ...] = ()   # one per invitation, mailed after the run's commit (`landups.mail`)


def invitation_letter(user: User, survey: str, base_url: str) -> Letter:
    """The invitation in the person's language: the survey, where to take it, and how to stop invitations."""
    lang = Lang.parse(user.language) or Lang.EN
    title = translate(f"survey.{survey}", lang)
    return Letter(to=user.email, subject=translate("mail.survey.subject", lang, survey=title),
                  body=translate("mail.survey.body", lang, name=user.name, survey=title, url=f"{base_url}/console",
                                 privacy_url=f"{base_url}/account/privacy"),
                  language=lang.value)


class Engagement:
    def __init__(self, session: Session, privacy: Privacy) -> None:
        self.session = session
        self.privacy = privacy

    def invite_all(self, survey: str, base_url: str) -> SurveyRun:
        """Invite every account Charter allows for purpose `surveys` (asked now, for each person); everyone else
        is left alone. The letters are for the caller to mail once this transaction has committed."""
        sent = denied = already = 0
        letters: list[Letter] = []
        invited = set(self.session.scalars(select(SurveyInvitation.user_id).where(SurveyInvitation.survey == survey)))
        for user in self.session.scalars(select(User).order_by(User.id)):
            if user.id in invited:
                already += 1
                continue
            if not self.privacy.may_use(subject_of(self.session, user), "surveys").allowed:
                denied += 1
                continue
            self.session.add(SurveyInvitation(user_id=user.id, survey=survey, sent_at=utcnow()))
            letters.append(invitation_letter(user, survey, base_url))
            sent += 1
        self.session.flush()
        return SurveyRun(sent=sent, denied=denied, already=already, letters=tuple(letters))

    def invitations(self, user: User, subject: Subject) -> list[SurveyInvitation]:
        """Shown only while Charter still allows surveys: a withdrawal hides them at once."""
        if not self.privacy.may_use(subject, "surveys").allowed:
            return []
        return list(self.session.scalars(
            select(SurveyInvitation).where(SurveyInvitation.user_id == user.id).order_by(SurveyInvitation.sent_at)))

    def recommendations(self, user: User, subject: Subject, limit: int = 3) -> list[Product]:
        """Related services from the person's own orders; nothing is stored, so there is no profile to erase."""
        if not self.privacy.may_use(subject, "recommendations").allowed:
            return []
        owned = list(self.session.scalars(select(CloudOrder.sku).where(CloudOrder.user_id == user.id)))
        picks: list[Product] = []
        for sku in owned:
            item = BY_SKU.get(sku)
            for related in item.related if item else ():
                if related not in owned and BY_SKU[related] not in picks:
                    picks.append(BY_SKU[related])
        if not picks:
            picks = [p for p in PRODUCTS if p.sku not in owned]
        return picks[:limit]

    def track(self, subject: Subject, feature: str, client: ClientInfo) -> bool:
        """Record that a feature was used, without any identifier, if Charter allows purpose `optimisation`."""
        if not self.privacy.may_use(subject, "optimisation").allowed:
            return False
        self.session.add(AnalyticsEvent(feature=feature[:60], browser=client.browser, language=client.language,
                                        device=client.device, occurred_at=utcnow()))
        return True
