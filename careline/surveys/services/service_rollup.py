"""The Service report's rolled-up rows, derived from the inbox's messages and closings.

Per conversation: its answered patient turns and resolved cycles (`ServiceEpisode`, with the length within
opening hours counted once) and its staff replies per author and local day (`ServiceStaffDay`); per location,
local day and hour: the patients' texts (`ServiceVolume`). The rules are the Service report's (see
careline/surveys/queries/service.py): a turn is the patient's texts before a staff-written reply, timed from
its first text; a cycle runs from the first patient text after a closing to the next closing.

`service_rollup_refresh` (the sweep, beat every CARELINE_SWEEP_SECONDS) re-derives only the conversations
with messages or closings past its watermarks, plus those with texts in the last few minutes (a row whose id
was taken before the watermark moved but committed after it), and recounts the volume of the local days
those texts fall on. Each conversation is deleted and derived again from all its messages, so running twice
changes nothing; the watermark row is locked (SKIP LOCKED on PostgreSQL), so a second worker does nothing
while one works. `service_rollup_rebuild` (the first sweep's backfill, `manage.py service_rollup --rebuild`)
derives everything (on PostgreSQL in SQL, careline/surveys/services/service_rollup_sql.py). When a
location's zone or opening hours change, the sweep counts its episodes' lengths again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from careline.locations.models import Location
from careline.messaging.models import Conversation, ConversationEvent, Message
from careline.surveys.business_time import business_seconds, week_spans
from careline.surveys.models import (
    EpisodeKind,
    ServiceEpisode,
    ServiceRollupState,
    ServiceStaffDay,
    ServiceVolume,
)
from careline.surveys.services.service_rollup_sql import rollup_rebuild_location_postgres

REFRESH_LIMIT = 20_000  # messages (and closings) past the watermark taken per run
RECENT = timedelta(minutes=10)  # texts this recent are rolled up again on every run
BATCH = 2_000  # conversations derived together
# The texts that count: the patient's, and replies a staff member wrote (not automatic texts).
COUNTED = Q(direction="in") | Q(kind="staff", author__isnull=False)


@dataclass(frozen=True)
class Clock:
    """A location's zone and business clock, and the key that names them."""

    zone: ZoneInfo
    spans: list[tuple[int, int]]
    key: str

    def seconds(self, moment: datetime) -> float:
        return business_seconds(moment, zone=self.zone, spans=self.spans)


def location_clock(location: Location) -> Clock:
    """The business clock of LOCATION from its zone and current opening hours."""
    spans = week_spans(list(location.opening_hours.all()))
    key = hashlib.sha256(f"{location.zone.key}|{spans}".encode()).hexdigest()[:32]
    return Clock(zone=location.zone, spans=spans, key=key)


def _clocks(location_ids: Iterable[int]) -> dict[int, Clock]:
    locations = Location.objects.filter(pk__in=set(location_ids)).prefetch_related("opening_hours")
    return {location.pk: location_clock(location) for location in locations}


def _derive(conversation_ids: list[int], clocks: dict[int, Clock]) -> None:
    """Delete and derive again the episodes and staff days of CONVERSATION_IDS."""
    ServiceEpisode.objects.filter(conversation_id__in=conversation_ids).delete()
    ServiceStaffDay.objects.filter(conversation_id__in=conversation_ids).delete()
    where = dict(
        Conversation.objects.filter(pk__in=conversation_ids, location__isnull=False).values_list(
            "pk", "location_id"
        )
    )
    missing = set(where.values()) - clocks.keys()
    if missing:
        clocks.update(_clocks(missing))
    closings: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for conversation_id, at, pk in (
        ConversationEvent.objects.filter(conversation_id__in=list(where), kind=ConversationEvent.Kind.CLOSED)
        .values_list("conversation_id", "at", "pk")
        .order_by("conversation_id", "at", "pk")
    ):
        closings[conversation_id].append((at, pk))
    messages: dict[int, list[tuple[datetime, int, bool, int | None]]] = defaultdict(list)
    for conversation_id, at, pk, direction, author_id in (
        Message.objects.filter(COUNTED, conversation_id__in=list(where))
        .values_list("conversation_id", "created_at", "pk", "direction", "author_id")
        .order_by("conversation_id", "created_at", "pk")
    ):
        messages[conversation_id].append((at, pk, direction == "in", author_id))
    episodes: list[ServiceEpisode] = []
    staff_days: list[ServiceStaffDay] = []
    for conversation_id, location_id in where.items():
        made, days = _conversation_rows(
            conversation_id, location_id, clocks[location_id], messages.get(conversation_id, []),
            closings.get(conversation_id, []),
        )  # fmt: skip
        episodes.extend(made)
        staff_days.extend(days)
    ServiceEpisode.objects.bulk_create(episodes, batch_size=5_000)
    ServiceStaffDay.objects.bulk_create(staff_days, batch_size=5_000)


def _conversation_rows(
    conversation_id: int,
    location_id: int,
    clock: Clock,
    rows: list[tuple[datetime, int, bool, int | None]],
    closings: list[tuple[datetime, int]],
) -> tuple[list[ServiceEpisode], list[ServiceStaffDay]]:
    """One conversation's episodes and staff days from its counted texts and closings (both in time order)."""

    def episode(kind: str, asked: datetime, answered: datetime) -> ServiceEpisode:
        return ServiceEpisode(
            location_id=location_id, conversation_id=conversation_id, kind=kind, asked=asked, answered=answered,
            business_seconds=clock.seconds(answered) - clock.seconds(asked), hours_key=clock.key,
        )  # fmt: skip

    episodes: list[ServiceEpisode] = []
    asked: datetime | None = None
    replies: dict[tuple[int, date], int] = defaultdict(int)
    for at, _pk, inbound, author_id in rows:
        if inbound:
            asked = asked or at
        else:  # a staff reply ends the turn, answered or not
            if asked is not None:
                episodes.append(episode(EpisodeKind.RESPONSE, asked, at))
            asked = None
            if author_id is not None:  # always: a reply counts only when a staff member wrote it
                replies[(author_id, at.astimezone(clock.zone).date())] += 1
    staff_days = [
        ServiceStaffDay(location_id=location_id, conversation_id=conversation_id, author_id=author, day=day,
                        replies=n)
        for (author, day), n in replies.items()
    ]  # fmt: skip
    # Cycles: the patient's texts and the closings in time order (a text before a closing at the same moment).
    stream = sorted(
        [(at, 0, pk) for at, pk, inbound, _a in rows if inbound] + [(at, 1, pk) for at, pk in closings]
    )
    asked = None
    for at, closed, _pk in stream:
        if not closed:
            asked = asked or at
        else:
            if asked is not None:
                episodes.append(episode(EpisodeKind.RESOLUTION, asked, at))
            asked = None
    return episodes, staff_days


def _local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def _recount_volume(location_id: int, days: set[date], clock: Clock) -> None:
    """Count again the patients' texts of DAYS (local) at the location, by local hour."""
    if not days:
        return
    since, _ = _local_day_bounds(min(days), clock.zone)
    _, until = _local_day_bounds(max(days), clock.zone)
    counts: dict[tuple[date, int], int] = defaultdict(int)
    texts = Message.objects.filter(
        conversation__location_id=location_id, direction="in", created_at__gte=since, created_at__lt=until
    ).values_list("created_at", flat=True)
    for moment in texts.iterator(chunk_size=10_000):
        local = moment.astimezone(clock.zone)
        if local.date() in days:
            counts[(local.date(), local.hour)] += 1
    ServiceVolume.objects.filter(location_id=location_id, day__in=days).delete()
    ServiceVolume.objects.bulk_create(
        [
            ServiceVolume(location_id=location_id, day=d, hour=h, texts=n)
            for (d, h), n in sorted(counts.items())
        ],
        batch_size=5_000,
    )


def _recount_hours(state: ServiceRollupState, clocks: dict[int, Clock]) -> int:
    """Count again the lengths of the episodes of locations whose zone or opening hours changed."""
    changed = 0
    for location_id, clock in clocks.items():
        if state.hours_keys.get(str(location_id)) == clock.key:
            continue
        stale = ServiceEpisode.objects.filter(location_id=location_id).exclude(hours_key=clock.key)
        batch: list[ServiceEpisode] = []
        for row in stale.only("pk", "asked", "answered").iterator(chunk_size=5_000):
            row.business_seconds = clock.seconds(row.answered) - clock.seconds(row.asked)
            row.hours_key = clock.key
            batch.append(row)
            if len(batch) >= 5_000:
                changed += ServiceEpisode.objects.bulk_update(batch, ["business_seconds", "hours_key"])
                batch = []
        changed += ServiceEpisode.objects.bulk_update(batch, ["business_seconds", "hours_key"])
        state.hours_keys[str(location_id)] = clock.key
    return changed


def _locked_state() -> ServiceRollupState | None:
    """The watermark row, locked for this transaction; None when another worker holds it."""
    ServiceRollupState.objects.get_or_create(pk=1)
    return ServiceRollupState.objects.select_for_update(skip_locked=True).filter(pk=1).first()


def service_rollup_refresh(*, limit: int = REFRESH_LIMIT, now: datetime | None = None) -> dict[str, Any]:
    """Roll up what changed since the watermarks (at most LIMIT new messages and closings); counts."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_state()
        if state is None:
            return {"busy": 1}
        if state.refreshed_at is None:  # never rolled up: derive everything once (the backfill)
            return {**service_rollup_rebuild(now=now), "rebuilt": 1}
        new = list(
            Message.objects.filter(COUNTED, pk__gt=state.message_id)
            .order_by("pk")
            .values_list("pk", "conversation_id", "created_at", "direction")[:limit]
        )
        recent = list(
            Message.objects.filter(
                COUNTED, pk__lte=state.message_id, created_at__gte=now - RECENT, created_at__lte=now + RECENT
            ).values_list("pk", "conversation_id", "created_at", "direction")
        )
        closings = list(
            ConversationEvent.objects.filter(pk__gt=state.event_id, kind=ConversationEvent.Kind.CLOSED)
            .order_by("pk")
            .values_list("pk", "conversation_id")[:limit]
        )
        conversation_ids = sorted({row[1] for row in new + recent} | {row[1] for row in closings})
        where = dict(
            Conversation.objects.filter(pk__in=conversation_ids, location__isnull=False).values_list(
                "pk", "location_id"
            )
        )
        clocks = _clocks(Location.objects.values_list("pk", flat=True))
        recounted = _recount_hours(state, clocks)
        for start in range(0, len(conversation_ids), BATCH):
            _derive(conversation_ids[start : start + BATCH], clocks)
        days: dict[int, set[date]] = defaultdict(set)
        for _pk, conversation_id, at, direction in new + recent:
            location_id = where.get(conversation_id)
            if direction == "in" and location_id is not None:
                days[location_id].add(at.astimezone(clocks[location_id].zone).date())
        for location_id, location_days in days.items():
            _recount_volume(location_id, location_days, clocks[location_id])
        if new:
            state.message_id = new[-1][0]
        if closings:
            state.event_id = closings[-1][0]
        state.refreshed_at = now
        state.save()
    return {
        "messages": len(new),
        "closings": len(closings),
        "conversations": len(conversation_ids),
        "lengths_recounted": recounted,
        "more": int(len(new) >= limit or len(closings) >= limit),
    }


def service_rollup_rebuild(*, now: datetime | None = None) -> dict[str, int]:
    """Derive every conversation's rows and every location's volume again (the backfill); counts."""
    now = now or timezone.now()
    with transaction.atomic():
        ServiceRollupState.objects.get_or_create(pk=1)
        state = ServiceRollupState.objects.select_for_update().get(pk=1)
        state.message_id = Message.objects.aggregate(m=Max("pk"))["m"] or 0
        state.event_id = ConversationEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        clocks = _clocks(Location.objects.values_list("pk", flat=True))
        ServiceEpisode.objects.all().delete()
        ServiceStaffDay.objects.all().delete()
        ServiceVolume.objects.all().delete()
        conversation_ids = list(
            Conversation.objects.filter(location__isnull=False).order_by("pk").values_list("pk", flat=True)
        )
        if connection.vendor == "postgresql":  # the database derives it all, location by location
            for location_id, clock in clocks.items():
                rollup_rebuild_location_postgres(location_id, clock)
        else:
            for start in range(0, len(conversation_ids), BATCH):
                _derive(conversation_ids[start : start + BATCH], clocks)
            for location_id, clock in clocks.items():
                _recount_all_volume(location_id, clock)
        state.hours_keys = {str(pk): clock.key for pk, clock in clocks.items()}
        state.refreshed_at = now
        state.save()
    return {"conversations": len(conversation_ids), "locations": len(clocks)}


def _recount_all_volume(location_id: int, clock: Clock) -> None:
    counts: dict[tuple[date, int], int] = defaultdict(int)
    texts = Message.objects.filter(conversation__location_id=location_id, direction="in").values_list(
        "created_at", flat=True
    )
    for moment in texts.iterator(chunk_size=10_000):
        local = moment.astimezone(clock.zone)
        counts[(local.date(), local.hour)] += 1
    ServiceVolume.objects.bulk_create(
        [
            ServiceVolume(location_id=location_id, day=d, hour=h, texts=n)
            for (d, h), n in sorted(counts.items())
        ],
        batch_size=5_000,
    )
