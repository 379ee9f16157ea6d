"""The records area's pieces of the portal's Home and search: the New results card and the search sources.

Imported by PortalConfig.ready() so the card and sources are registered. Search labels stay lazy: the page
renders them in the reader's language.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careline.portal.access import PortalSession
from careline.portal.home import HomeCard, home_card
from careline.portal.models import PortalSection
from careline.portal.search import SearchHit, search_source
from careline.records.models import Document, DocumentStatus
from careline.records.queries import records_for_patient, released_results_for_patient

NEW_RESULT_DAYS = 14


@home_card(order=30)
def new_results_card(session: PortalSession) -> HomeCard | None:
    """How many results were released in the last NEW_RESULT_DAYS days (nothing when none, or not granted)."""
    if not session.may(PortalSection.RESULTS):
        return None
    since = timezone.now() - timedelta(days=NEW_RESULT_DAYS)
    count = released_results_for_patient(session.patient).filter(released_at__gte=since).count()
    if not count:
        return None
    return HomeCard(
        template="portal/records/_home_results.html", context={"count": count, "days": NEW_RESULT_DAYS}
    )


def _matches_every_word(fields: list[str], words: list[str]) -> Q:
    query = Q()
    for word in words:
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": word})
        query &= any_field
    return query


@search_source(label=cast(str, _("Results")), section=PortalSection.RESULTS, order=40)
def results_matching(session: PortalSession, words: list[str], limit: int) -> list[SearchHit]:
    """Released results of the open record whose test name or code has every word."""
    rows = released_results_for_patient(session.patient).filter(
        _matches_every_word(["test_name", "test_code"], words)
    )[:limit]
    return [
        SearchHit(
            kind="result",
            title=row.test_name,
            url=reverse("portal:result", args=[row.pk]),
            when=row.collected_at,
            summary=f"{row.value} {row.unit}".strip(),
        )
        for row in rows
    ]


@search_source(label=cast(str, _("Records")), section=PortalSection.RECORDS, order=30)
def records_matching(session: PortalSession, words: list[str], limit: int) -> list[SearchHit]:
    """The open record's entries and documents whose name has every word (in Python: a record is short)."""
    record = records_for_patient(session.patient)
    url = reverse("portal:records")
    hits: list[SearchHit] = []
    named = [
        *((a.substance, a.created_at) for a in record.allergies),
        *((m.name, m.created_at) for m in record.medications),
        *((p.name, p.created_at) for p in record.problems),
        *((i.vaccine, i.created_at) for i in record.immunizations),
    ]
    for title, when in named:
        if all(word in title.lower() for word in words):
            hits.append(SearchHit(kind="record", title=title, url=url, when=when))
    documents = Document.objects.filter(
        _matches_every_word(["title"], words), patient=session.patient, status=DocumentStatus.CURRENT
    )[:limit]
    hits += [
        SearchHit(
            kind="document",
            title=d.title,
            url=reverse("portal:document", args=[d.download_key]),
            when=d.created_at,
        )
        for d in documents
    ]
    return hits[:limit]
