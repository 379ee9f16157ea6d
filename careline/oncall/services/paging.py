"""Paging the clinician on call: a Page row and its notices (text and email) first, sent after commit.

    page_on_call(location=..., reason="urgent-text", link_path="/inbox/12", actor=Actor.system("..."))

- Someone is on call (`on_call_now`): their staff mobile gets a text and their email an email, each with a
  link to the page (sign-in required) and no patient detail. Not acknowledged within
  CARELINE_ONCALL_ACK_MINUTES, the beat sweep (`pages_escalate_due`) tells the backup (or, with none, the
  location's administrators); the claim is a conditional update, so two sweeps tell them once.
- Nobody is on call: the location's administrators (every active administrator if none works there) are told
  at once and the page says so (state "uncovered").
- The same reason and link paged within the last hour and not yet acknowledged is not paged again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.permissions import Perm, Role, has_perm
from careline.core.queue import task_enqueue
from careline.locations.models import Location
from careline.oncall.models import NoticeMedium, NoticeState, Page, PageNotice, PageState
from careline.oncall.queries import on_call_now
from careline.oncall.texts import page_text

logger = logging.getLogger(__name__)

REPAGE_AFTER = timedelta(hours=1)  # an open page for the same thing within this is not repeated
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)
STUCK_AFTER = timedelta(minutes=5)  # a notice "sending" this long lost its worker
REASON_MAX = 40


class PageRefused(ValueError):
    """page_on_call was asked something it cannot page (a link outside Careline, an empty reason)."""


def _link_checked(link_path: str) -> str:
    link = (link_path or "").strip()
    if not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > 300:
        raise PageRefused("link_path must be a path of a Careline staff page, such as /inbox/12")
    return link


def _administrators(location: Location) -> list[User]:
    """Active administrators who work at LOCATION; every active administrator when none does."""
    admins = User.objects.filter(is_active=True, role_rows__role=Role.ADMIN).distinct().order_by("pk")
    here = list(admins.filter(locations=location))
    return here or list(admins)


def _actor_label(actor: Actor) -> str:
    if actor.user is not None:
        return str(actor.user)[:80]
    return (actor.job or actor.kind)[:80]


def page_on_call(*, location: Location, reason: str, link_path: str, actor: Actor) -> Page:
    """Page whoever is on call at LOCATION now about REASON (a short kind), pointing at LINK_PATH.

    Returns the Page (an open one for the same reason and link from the last hour, if there is one).
    PageRefused for a link outside Careline or an empty reason; nothing is stored then.
    """
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason:
        raise PageRefused("a page needs a reason, such as urgent-text")
    link = _link_checked(link_path)
    now = timezone.now()
    with transaction.atomic():
        # One page at a time per location: two urgent texts racing do not page twice.
        Location.objects.select_for_update().filter(pk=location.pk).first()
        repeat = (
            Page.objects.filter(
                location=location,
                reason=reason,
                link_path=link,
                acknowledged_at__isnull=True,
                created_at__gte=now - REPAGE_AFTER,
            )
            .order_by("-created_at")
            .first()
        )
        if repeat is not None:
            return repeat
        shift = on_call_now(location, now)
        page = Page.objects.create(
            location=location,
            reason=reason,
            link_path=link,
            shift=shift,
            clinician=shift.clinician if shift else None,
            backup=shift.backup if shift else None,
            state=PageState.PAGED if shift else PageState.UNCOVERED,
            created_at=now,
            escalate_at=now + timedelta(minutes=settings.CARELINE_ONCALL_ACK_MINUTES) if shift else None,
            requested_by=_actor_label(actor),
        )
        if shift is not None:
            _notify(page, [shift.clinician], role="clinician", location=location)
        else:
            _notify(page, _administrators(location), role="administrator", location=location)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=page,
            detail=f"on-call page ({reason}) at {location}: "
            + (f"{shift.clinician} paged" if shift else "nobody on call, administrators told"),
        )
    return page


def _notify(page: Page, people: list[Any], *, role: str, location: Location) -> list[PageNotice]:
    """Rows for a text (when they have a mobile) and an email to each of PEOPLE; sent after commit."""
    subject, body = page_text(page, role=role, location=location)
    now = timezone.now()
    notices = []
    for person in people:
        addresses = [(NoticeMedium.SMS, person.mobile), (NoticeMedium.EMAIL, person.email)]
        for medium, address in addresses:
            if not address:
                continue
            notice, created = PageNotice.objects.get_or_create(
                page=page,
                recipient=person,
                medium=medium,
                role=role,
                defaults={
                    "to_address": address,
                    "subject": subject,
                    "body": body,
                    "due_at": now,
                },
            )
            if created:
                notices.append(notice)
        if not person.mobile:
            logger.warning("on-call page %s: %s has no staff mobile; email only", page.pk, person.pk)
    ids = [notice.pk for notice in notices]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return notices


def _enqueue(ids: list[int]) -> None:
    for pk in ids:
        task_enqueue("oncall.notice_send", pk)


def page_acknowledge(*, page: Page, actor: Actor) -> bool:
    """Acknowledge PAGE as ACTOR's user: the backup is no longer due. False when it already was acknowledged.

    PermissionError unless the user may acknowledge pages and works at the page's location.
    """
    user = actor.user
    if user is None or not has_perm(user, Perm.ONCALL_ACKNOWLEDGE):
        raise PermissionError("only clinicians and administrators acknowledge pages")
    if page.location_id not in user.location_ids and not has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        raise PermissionError("not a page of your locations")
    now = timezone.now()
    with transaction.atomic():
        done = Page.objects.filter(pk=page.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=user, state=PageState.ACKNOWLEDGED, escalate_at=None
        )
        if done:
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=page, detail="on-call page acknowledged")
    page.refresh_from_db()
    return bool(done)


def pages_escalate_due(*, now: Any = None) -> int:
    """Tell the backup (or the administrators) about every page not acknowledged in time; how many.

    Each page is claimed with a conditional update (still paged, not acknowledged, due): a second sweep, or
    an acknowledgement a moment earlier, leaves nothing to claim.
    """
    now = now or timezone.now()
    due = list(
        Page.objects.filter(
            state=PageState.PAGED, acknowledged_at__isnull=True, escalate_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )
    escalated = 0
    for pk in due:
        with transaction.atomic():
            claimed = Page.objects.filter(
                pk=pk, state=PageState.PAGED, acknowledged_at__isnull=True, escalate_at__lte=now
            ).update(state=PageState.ESCALATED, escalated_at=now, escalate_at=None)
            if not claimed:
                continue
            page = Page.objects.select_related("location", "backup").get(pk=pk)
            backup = page.backup if page.backup is not None and page.backup.is_active else None
            if backup is not None:
                _notify(page, [backup], role="backup", location=page.location)
            else:
                _notify(
                    page,
                    _administrators(page.location),
                    role="administrator-escalated",
                    location=page.location,
                )
            audit_record(
                actor=Actor.system("oncall-escalation"),
                action=AuditAction.UPDATE,
                obj=page,
                detail="on-call page not acknowledged in time: "
                + (f"backup {backup} paged" if backup else "no backup, administrators told"),
            )
            escalated += 1
    return escalated


# --- sending the notices ----------------------------------------------------------------------------------


def notice_send(notice_id: int) -> str:
    """Send notice NOTICE_ID once (claimed queued -> sending); its state afterwards ('' when not claimed)."""
    from careline.messaging.channels.base import ProviderError
    from careline.messaging.services.channels import channel_default

    now = timezone.now()
    claimed = PageNotice.objects.filter(pk=notice_id, state=NoticeState.QUEUED, due_at__lte=now).update(
        state=NoticeState.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return ""
    notice = PageNotice.objects.get(pk=notice_id)
    channel = channel_default("sms" if notice.medium == NoticeMedium.SMS else "email")
    try:
        if channel is None:
            raise ProviderError(
                f"no {notice.get_medium_display().lower()} channel is configured", permanent=True
            )
        result = channel.type.send_to_staff(
            channel, to_address=notice.to_address, subject=notice.subject, body=notice.body
        )
    except ProviderError as error:
        final = error.permanent or notice.attempts >= MAX_ATTEMPTS
        PageNotice.objects.filter(pk=notice_id, state=NoticeState.SENDING).update(
            state=NoticeState.FAILED if final else NoticeState.QUEUED,
            due_at=now + RETRY_AFTER * notice.attempts,
            error=str(error)[:200],
        )
        logger.warning("on-call notice %s failed (%s): %s", notice_id, "final" if final else "retry", error)
        return NoticeState.FAILED if final else NoticeState.QUEUED
    PageNotice.objects.filter(pk=notice_id, state=NoticeState.SENDING).update(
        state=NoticeState.SENT, sent_at=timezone.now(), provider_id=result.provider_message_id[:100], error=""
    )
    return NoticeState.SENT


def notices_requeue(*, now: Any = None) -> int:
    """Queue again notices due (retries) and those a dead worker left sending; how many."""
    now = now or timezone.now()
    PageNotice.objects.filter(state=NoticeState.SENDING, claimed_at__lt=now - STUCK_AFTER).update(
        state=NoticeState.QUEUED, due_at=now
    )
    ids = list(
        PageNotice.objects.filter(state=NoticeState.QUEUED, due_at__lte=now).values_list("pk", flat=True)[
            :500
        ]
    )
    for pk in ids:
        task_enqueue("oncall.notice_send", pk)
    return len(ids)


def oncall_sweep() -> int:
    """The beat's sweep: escalate pages not acknowledged in time, then send what is due; how many escalated."""
    escalated = pages_escalate_due()
    notices_requeue()
    return escalated
