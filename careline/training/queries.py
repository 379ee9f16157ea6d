"""Reads of staff training shared by the pages: a person's tasks, who is overdue where, completions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from careline.accounts.models import User
from careline.locations.models import Location
from careline.training.models import Completion, Task, TaskState


def tasks_of(user: User) -> QuerySet[Task]:
    """USER's open tasks (soonest due first) with what they are about."""
    return (
        Task.objects.filter(user=user, state=TaskState.OPEN)
        .select_related("course", "protocol_version__protocol")
        .order_by("due_on", "id")
    )


def completions_of(user: User, *, limit: int = 50) -> list[Completion]:
    return list(
        Completion.objects.filter(user=user).select_related("course", "protocol_version__protocol")[:limit]
    )


@dataclass
class LocationOverdue:
    location: Location | None
    tasks: list[Task] = field(default_factory=list)

    @property
    def people(self) -> int:
        return len({task.user_id for task in self.tasks})


def overdue_by_location(*, today: date | None = None) -> list[LocationOverdue]:
    """Open tasks past their due date, grouped by each person's locations (staff with none: "No location")."""
    today = today or timezone.localdate()
    tasks = list(
        Task.objects.filter(state=TaskState.OPEN, due_on__lt=today, user__is_active=True)
        .select_related("user", "course", "protocol_version__protocol")
        .prefetch_related("user__locations")
        .order_by("due_on", "user__full_name", "id")
    )
    groups: dict[int | None, LocationOverdue] = {
        location.pk: LocationOverdue(location) for location in Location.objects.order_by("name")
    }
    for task in tasks:
        locations: list[Location | None] = [*task.user.locations.all()] or [None]
        for location in locations:
            key = location.pk if location is not None else None
            groups.setdefault(key, LocationOverdue(location)).tasks.append(task)
    return [group for group in groups.values() if group.tasks or group.location is not None]


def completions_search(
    *,
    location: Location | None = None,
    since: date | None = None,
    until: date | None = None,
    course_id: int | None = None,
    protocol_id: int | None = None,
) -> QuerySet[Completion]:
    """Completions oldest first, of staff at LOCATION, completed on SINCE..UNTIL (local days), for one subject."""
    rows = Completion.objects.select_related("user", "course", "protocol_version__protocol").order_by(
        "completed_at", "id"
    )
    if location is not None:
        rows = rows.filter(user__locations=location)
    zone = timezone.get_current_timezone()
    if since is not None:
        rows = rows.filter(completed_at__gte=datetime.combine(since, datetime.min.time(), tzinfo=zone))
    if until is not None:
        rows = rows.filter(completed_at__lte=datetime.combine(until, datetime.max.time(), tzinfo=zone))
    if course_id is not None:
        rows = rows.filter(course_id=course_id)
    if protocol_id is not None:
        rows = rows.filter(protocol_version__protocol_id=protocol_id)
    return rows.distinct()
