"""Email subscription (LUB-SUBSCRIBE, LUB-BEACONS): double opt-in, newsletters, one-click unsubscribe, tracking.

A newsletter goes only to a confirmed subscriber whom `decide(…, "marketing_email")` allows; it carries the open
pixel and click-redirect links only if `decide(…, "email_tracking")` allows it at the moment of sending, and a
tracking hit is recorded only if it is still allowed when it arrives (a refusal is honoured at once).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur import validate
from lubpur.db import utcnow
from lubpur.errors import InputError, NotFound
from lubpur.i18n import t
from lubpur.mailer import OutgoingMail
from lubpur.models import EmailTrackingEvent, Newsletter, NewsletterDelivery, Subscription, User
from lubpur.privacy import Evidence, Privacy, Subject
from lubpur.security import new_token, token_hash


def subject_of(sub: Subscription) -> Subject:
    return Subject(user_id=sub.user_id, email=sub.email)


def subscribe(session: Session, email: str, lang: str, user: User | None, base_url: str) -> list[OutgoingMail]:
    """Ask the address to confirm. The answer on the page is the same whether or not it was subscribed already."""
    email = validate.email(email)
    sub = session.scalars(select(Subscription).where(Subscription.email == email)).first()
    if sub is not None and sub.status == "active":
        return []
    token = new_token()
    if sub is None:
        sub = Subscription(email=email, lang=lang, confirm_token_hash=token_hash(token), manage_token=new_token())
        session.add(sub)
    else:
        sub.confirm_token_hash = token_hash(token)
        sub.requested_at = utcnow()
    sub.user_id = user.id if user is not None and user.email == email else None
    session.flush()
    link = f"{base_url}/subscribe/confirm?token={token}"
    return [OutgoingMail(to=email, subject=t("mail.confirm.subject", lang),
                         text=t("mail.confirm.body", lang, link=link))]


def pending(session: Session, token: str) -> Subscription:
    sub = session.scalars(select(Subscription).where(Subscription.confirm_token_hash == token_hash(token))).first()
    if sub is None or sub.status != "pending":
        raise NotFound
    return sub


def confirm(session: Session, privacy: Privacy, token: str, *, allow_tracking: bool,
            evidence: Evidence) -> Subscription:
    sub = pending(session, token)
    sub.status = "active"
    sub.confirmed_at = utcnow()
    privacy.record_choice(subject_of(sub), "marketing_email", is_granted=True, evidence=evidence)
    privacy.record_choice(subject_of(sub), "email_tracking", is_granted=allow_tracking, evidence=evidence)
    return sub


def by_manage_token(session: Session, token: str) -> Subscription:
    sub = session.scalars(select(Subscription).where(Subscription.manage_token == token)).first() if token else None
    if sub is None:
        raise NotFound
    return sub


def unsubscribe(session: Session, privacy: Privacy, sub: Subscription, evidence: Evidence) -> None:
    """Sending stops at once and the subscription (with its deliveries and tracking records) is deleted."""
    privacy.record_choice(subject_of(sub), "marketing_email", is_granted=False, evidence=evidence)
    session.delete(sub)
    session.flush()


def set_tracking(privacy: Privacy, sub: Subscription, *, allow: bool, evidence: Evidence) -> None:
    privacy.record_choice(subject_of(sub), "email_tracking", is_granted=allow, evidence=evidence)


def for_user(session: Session, user: User) -> Subscription | None:
    query = select(Subscription).where((Subscription.user_id == user.id) | (Subscription.email == user.email))
    return session.scalars(query).first()


@dataclass(frozen=True)
class IssueForm:
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    links: str


def create_issue(session: Session, form: IssueForm) -> Newsletter:
    links = [line.strip() for line in form.links.splitlines() if line.strip()]
    for link in links:
        if not link.startswith("/") or link.startswith("//") or len(link) > 300:
            raise InputError("err.newsletter_link", "links")
    issue = Newsletter(subject_zh=validate.text(form.subject_zh, "subject_zh", max_len=150),
                       subject_en=validate.text(form.subject_en, "subject_en", max_len=150),
                       body_zh=validate.text(form.body_zh, "body_zh", max_len=10000),
                       body_en=validate.text(form.body_en, "body_en", max_len=10000), links=links)
    session.add(issue)
    session.flush()
    return issue


def send_issue(session: Session, privacy: Privacy, issue: Newsletter, base_url: str) -> list[OutgoingMail]:
    mails = []
    for sub in session.scalars(select(Subscription).where(Subscription.status == "active").order_by(Subscription.id)):
        decision = privacy.decide(subject_of(sub), "marketing_email")
        if not decision.is_allowed:
            continue
        # Charter's marketing decision says `no_tracking` for those who did not allow it (LUB-BEACONS).
        is_tracked = ("no_tracking" not in decision.obligations
                      and privacy.decide(subject_of(sub), "email_tracking").is_allowed)
        tracking = new_token() if is_tracked else None
        session.add(NewsletterDelivery(newsletter_id=issue.id, subscription_id=sub.id,
                                       tracking_token_hash=token_hash(tracking) if tracking else None))
        mails.append(compose(issue, sub, base_url, tracking=tracking,
                             is_ad_prefixed="subject_prefix_ad" in decision.obligations))
    issue.sent_at = utcnow()
    session.flush()
    return mails


def compose(issue: Newsletter, sub: Subscription, base_url: str, *, tracking: str | None,
            is_ad_prefixed: bool) -> OutgoingMail:
    lang = sub.lang
    subject = issue.subject_en if lang == "en" else issue.subject_zh
    if is_ad_prefixed:
        subject = t("mail.ad_prefix", lang) + subject
    body = issue.body_en if lang == "en" else issue.body_zh
    unsubscribe = f"{base_url}/unsubscribe?token={sub.manage_token}"
    one_click = f"{base_url}/unsubscribe/one-click?token={sub.manage_token}"
    links = [f"{base_url}/t/c/{tracking}/{n}" if tracking else f"{base_url}{path}"
             for n, path in enumerate(issue.links)]
    text_links = "\n".join(links)
    text = f"{body}\n\n{text_links}\n\n{t('mail.unsubscribe', lang)}: {unsubscribe}\n"
    parts = [f"<p>{html.escape(p)}</p>" for p in body.split("\n\n")]
    parts += [f'<p><a href="{html.escape(u)}">{html.escape(u)}</a></p>' for u in links]
    footer = f'<a href="{html.escape(unsubscribe)}">{t("mail.unsubscribe", lang)}</a>'
    if tracking:
        stop = f"{base_url}/email/tracking/stop?token={sub.manage_token}"
        footer += f' · <a href="{html.escape(stop)}">{t("mail.stop_tracking", lang)}</a>'
        text += f"{t('mail.stop_tracking', lang)}: {stop}\n"
        parts.append(f'<img src="{base_url}/t/o/{tracking}.gif" width="1" height="1" alt="">')
    parts.append(f'<p style="font-size:12px;color:#666">{t("mail.footer", lang)} {footer}</p>')
    headers = {"List-Unsubscribe": f"<{one_click}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return OutgoingMail(to=sub.email, subject=subject, text=text, html="\n".join(parts), headers=headers)


def _delivery(session: Session, tracking: str) -> NewsletterDelivery | None:
    query = select(NewsletterDelivery).where(NewsletterDelivery.tracking_token_hash == token_hash(tracking))
    return session.scalars(query).first()


def record_open(session: Session, privacy: Privacy, tracking: str) -> None:
    delivery = _delivery(session, tracking)
    if delivery is not None and _still_allowed(session, privacy, delivery):
        session.add(EmailTrackingEvent(delivery_id=delivery.id, kind="open"))


def record_click(session: Session, privacy: Privacy, tracking: str, n: int) -> str:
    """The site path behind link `n`; the click is recorded only if tracking is still allowed."""
    delivery = _delivery(session, tracking)
    if delivery is None:
        raise NotFound
    issue = session.get(Newsletter, delivery.newsletter_id)
    if issue is None or not 0 <= n < len(issue.links):
        raise NotFound
    if _still_allowed(session, privacy, delivery):
        session.add(EmailTrackingEvent(delivery_id=delivery.id, kind="click", link=issue.links[n]))
    return issue.links[n]


def _still_allowed(session: Session, privacy: Privacy, delivery: NewsletterDelivery) -> bool:
    sub = session.get(Subscription, delivery.subscription_id)
    return sub is not None and privacy.decide(subject_of(sub), "email_tracking").is_allowed


def tracking_events(session: Session, sub: Subscription) -> list[EmailTrackingEvent]:
    query = (select(EmailTrackingEvent).join(NewsletterDelivery)
             .where(NewsletterDelivery.subscription_id == sub.id).order_by(EmailTrackingEvent.id))
    return list(session.scalars(query))


def recent_issues(session: Session, limit: int = 20) -> list[Newsletter]:
    return list(session.scalars(select(Newsletter).order_by(Newsletter.id.desc()).limit(limit)))
