"""Reads the referral pages share: the directory's search, the referrals a staff member may see, the worklist."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from careline.core.permissions import Perm, has_perm
from careline.referrals.models import OPEN_STATES, OutsideProvider, Referral


def providers_search(
    *,
    text: str = "",
    kind: str = "",
    language: str = "",
    takes_texts: bool = False,
    include_inactive: bool = False,
) -> QuerySet[OutsideProvider]:
    """The directory filtered by words (name, specialty, services, insurance), kind, a language spoken, texts."""
    rows = OutsideProvider.objects.all()
    if not include_inactive:
        rows = rows.filter(active=True)
    for word in text.split()[:5]:
        rows = rows.filter(
            Q(name__icontains=word)
            | Q(specialty__icontains=word)
            | Q(services__icontains=word)
            | Q(insurance_accepted__icontains=word)
            | Q(address__icontains=word)
        )
    if kind:
        rows = rows.filter(kind=kind)
    if takes_texts:
        rows = rows.filter(takes_texts=True)
    found = rows.order_by("name", "id")
    if language:
        # A JSON list: filtered in Python (the directory is small), the same on SQLite and PostgreSQL.
        return OutsideProvider.objects.filter(
            pk__in=[p.pk for p in found if language in (p.languages or [])]
        ).order_by("name", "id")
    return found


def referrals_visible_to(user: Any) -> QuerySet[Referral]:
    """The referrals USER may see: REFERRAL_VIEW, at their locations (every location's with all-locations)."""
    if not has_perm(user, Perm.REFERRAL_VIEW):
        return Referral.objects.none()
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return Referral.objects.all()
    return Referral.objects.filter(location_id__in=list(user.location_ids))


def stalled_before(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.CARELINE_REFERRAL_STALLED_DAYS)


def worklist_referrals(user: Any, *, location_id: int | None = None, limit: int = 200) -> list[Referral]:
    """Open referrals that need a person: stalled (no change in CARELINE_REFERRAL_STALLED_DAYS) or where the
    patient asked for help; the patient's request first, then the longest stalled."""
    rows = referrals_visible_to(user).filter(state__in=OPEN_STATES)
    if location_id is not None:
        rows = rows.filter(location_id=location_id)
    rows = rows.filter(Q(state_changed_at__lte=stalled_before()) | Q(needs_help=True))
    return list(
        rows.select_related("patient", "provider", "location").order_by(
            "-needs_help", "state_changed_at", "id"
        )[:limit]
    )


def referrals_of(patient_id: int) -> list[Referral]:
    """PATIENT's referrals, newest first, with their providers."""
    return list(Referral.objects.filter(patient_id=patient_id).select_related("provider", "referred_by"))
