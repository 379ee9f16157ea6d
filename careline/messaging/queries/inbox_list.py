"""The inbox list: filters people use, two orders, keyset pages, unread counts per filter, search, the version
its poll compares, and the navigation badge. Every read here is a constant number of queries.

Needs attention ("unread") is `Conversation.unread_count > 0`: only patient texts a person must read count
(services/inbound.py). The list's row facts (waiting on the patient, opted out, last text failed) are columns
of the conversation kept in step by the services (careline/messaging/conversation_facts.py), so the counts
read one index over the open conversations (migration 0018).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Sum

from careline.core.permissions import Perm, has_perm
from careline.core.text import search_key
from careline.messaging.models import Conversation, ConversationSearch, Message, Tag
from careline.messaging.queries.inbox import conversations_visible_to
from careline.patients.models import Patient, PatientPhone

PAGE_SIZE = 50
MAX_SHOWN = 500  # a poll re-renders at most this many rows (down to the last one the reader has)

# The quick filters ("views") of the list, in the order they are offered.
SHOW_CHOICES = [
    ("", "All"),
    ("unread", "Needs attention"),
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("flagged", "Flagged"),
    ("waiting", "Waiting on patient"),
    ("opted_out", "Opted out"),
    ("failed", "Failed delivery"),
]
SORT_ACTIVITY = "activity"
SORT_PATIENT = "patient"
SORT_CHOICES = [(SORT_ACTIVITY, "Newest activity"), (SORT_PATIENT, "Last patient message")]
SORT_FIELDS = {SORT_ACTIVITY: "last_message_at", SORT_PATIENT: "last_patient_message_at"}


@dataclass(frozen=True)
class InboxFilters:
    """What the list is narrowed to. `status` is 'open', 'closed' or '' (both); `show` one of SHOW_CHOICES."""

    status: str = "open"
    show: str = ""
    location_id: int | None = None
    tag: str = ""
    text: str = ""
    sort: str = SORT_ACTIVITY

    def describe(self) -> str:
        """The filters for the audit trail: which were used, never the search text (it may be patient data)."""
        parts = [f"status={self.status or 'all'}"]
        if self.show:
            parts.append(self.show)
        if self.location_id:
            parts.append(f"location={self.location_id}")
        if self.tag:
            parts.append("tag")
        if self.sort != SORT_ACTIVITY:
            parts.append(f"sort={self.sort}")
        if self.text:
            parts.append("search=" + ("phone" if phone_digits(self.text) else "text"))
        return "; ".join(parts)


# --- the filters ---------------------------------------------------------------------------------------


def show_condition(show: str, user: Any) -> Q:
    """The condition of the quick filter SHOW (the row facts are columns: conversation_facts.py)."""
    conditions = {
        "unread": Q(unread_count__gt=0),
        "mine": Q(assigned_to=user),
        "unassigned": Q(assigned_to__isnull=True),
        "flagged": Q(flagged=True),
        "waiting": Q(waiting_on_patient=True),
        "opted_out": Q(opted_out=True),
        "failed": Q(last_out_failed=True),
    }
    return conditions.get(show, Q())


def scope_condition(filters: InboxFilters) -> Q:
    """Status, location and tag: the part of FILTERS the counts and the poll's version are taken over."""
    condition = Q()
    if filters.status in Conversation.Status.values:
        condition &= Q(status=filters.status)
    if filters.location_id:
        condition &= Q(location_id=filters.location_id)  # a linked conversation's is its patient's
    if filters.tag:
        tagged = Conversation.tags.through.objects.filter(
            conversation_id=OuterRef("pk"), tag__name=filters.tag
        )
        condition &= Q(Exists(tagged))  # not a join: it would repeat rows in the counts
    return condition


# --- search ---------------------------------------------------------------------------------------------

PHONE_LIKE = re.compile(r"^[\d\s().+\-/]+$")
MIN_PHONE_DIGITS = 4
MAX_SEARCH_WORDS = 4
TS_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def phone_digits(text: str) -> str:
    """The digits of TEXT when it reads as (part of) a phone number ("0170", "(614) 555-0170"), else ''."""
    stripped = text.strip()
    if not PHONE_LIKE.match(stripped):
        return ""
    digits = re.sub(r"\D", "", stripped)
    return digits if len(digits) >= MIN_PHONE_DIGITS else ""


def _phone_condition(digits: str) -> Q:
    """Numbers containing DIGITS; a full number typed with or without the country code matches it too."""
    numbers = PatientPhone.objects.filter(number__contains=digits).values("patient_id")
    # One set of ids from two lookups, each of which an index can answer (a trigram index on PostgreSQL,
    # migration 0016); an OR of the two conditions would read every conversation instead.
    by_contact = Conversation.objects.filter(contact__contains=digits).order_by().values("pk")
    by_patient = Conversation.objects.filter(patient_id__in=numbers).order_by().values("pk")
    return Q(pk__in=by_contact.union(by_patient))


def _text_condition(text: str) -> Q:
    """Message text: every word somewhere in the conversation's messages. On PostgreSQL each word by its start,
    over the conversations' word documents (`ConversationSearch`, kept by triggers) and their GIN index; on
    SQLite each word anywhere in a message body (no index: SQLite serves small clinics)."""
    if connection.vendor == "postgresql":
        words = TS_WORD.findall(text.lower())[:MAX_SEARCH_WORDS]
        if not words:
            return Q(pk__in=[])
        query = SearchQuery(" & ".join(f"{word}:*" for word in words), config="simple", search_type="raw")
        return Q(pk__in=ConversationSearch.objects.filter(document=query).values("conversation_id"))
    # SQLite: every word somewhere in a message of the conversation (a substring, any case).
    words = TS_WORD.findall(text)[:MAX_SEARCH_WORDS]
    if not words:
        return Q(pk__in=[])
    condition = Q()
    for word in words:
        condition &= Q(Exists(Message.objects.filter(conversation=OuterRef("pk"), body__icontains=word)))
    return condition


def _name_condition(text: str) -> Q | None:
    """Every word starts one of the linked patient's names ("pat ort"); None when TEXT has no words. The
    patients are a subquery over the name indexes, so the list needs no join to find them."""
    words = search_key(text).split()[:MAX_SEARCH_WORDS]
    if not words:
        return None
    name = Q()
    for word in words:
        name &= (
            Q(last_name_key__startswith=word)
            | Q(first_name_key__startswith=word)
            | Q(preferred_name_key__startswith=word)
        )
    return Q(patient_id__in=Patient.objects.filter(name).order_by().values("pk"))


def search_condition(text: str) -> Q:
    """A phone number (any part, typed any way) when TEXT is only that; else a name prefix or message text.

    A query of only digits (and the usual phone punctuation) means a number: message text is not searched for
    it (on SQLite that would read every message body; on PostgreSQL the digits are rarely words worth
    finding), and names never hold digits.
    """
    digits = phone_digits(text)
    if digits:
        return _phone_condition(digits)
    condition = _text_condition(text)
    name = _name_condition(text)
    if name is not None:
        condition |= name
    return condition


# --- pages ----------------------------------------------------------------------------------------------


class BadCursor(ValueError):
    """A "Show more" position that Careline did not write."""


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the row with this sort value (None: a row never written to) and id."""

    value: datetime | None
    pk: int

    def encode(self) -> str:
        if self.value is None:
            return f"n.{self.pk}"
        micros = (self.value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        return f"{micros}.{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        """The cursor RAW names; BadCursor when it is not one."""
        value, _, pk = (raw or "").partition(".")
        if not pk.isdigit() or len(pk) > 18 or not (value == "n" or value.isdigit()) or len(value) > 18:
            raise BadCursor(raw)
        if value == "n":
            return cls(None, int(pk))
        try:
            at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value))
        except OverflowError:
            raise BadCursor(raw) from None
        return cls(at, int(pk))


def _after(sort_field: str, cursor: Cursor) -> Q:
    """Rows after CURSOR in the order (SORT_FIELD descending, never-set last; then id descending)."""
    if cursor.value is None:
        return Q(**{f"{sort_field}__isnull": True, "pk__lt": cursor.pk})
    return (
        Q(**{f"{sort_field}__lt": cursor.value})
        | Q(**{sort_field: cursor.value, "pk__lt": cursor.pk})
        | Q(**{f"{sort_field}__isnull": True})
    )


def _at_or_before(sort_field: str, cursor: Cursor) -> Q:
    """Rows up to and including CURSOR's row in the list's order (what a reader already has on screen)."""
    if cursor.value is None:
        return Q(**{f"{sort_field}__isnull": False}) | Q(
            **{f"{sort_field}__isnull": True, "pk__gte": cursor.pk}
        )
    return Q(**{f"{sort_field}__gt": cursor.value}) | Q(**{sort_field: cursor.value, "pk__gte": cursor.pk})


def row_cursor(row: Conversation, sort: str) -> str:
    """The position of ROW in the order SORT, for "Show more" and the poll."""
    sort_field = SORT_FIELDS.get(sort, SORT_FIELDS[SORT_ACTIVITY])
    return Cursor(getattr(row, sort_field), row.pk).encode()


def inbox_conversations(user: Any, filters: InboxFilters) -> QuerySet[Conversation]:
    """USER's visible conversations narrowed by FILTERS, in the chosen order, ready to list in few queries."""
    sort_field = SORT_FIELDS.get(filters.sort, SORT_FIELDS[SORT_ACTIVITY])
    queryset = conversations_visible_to(user).filter(scope_condition(filters))
    queryset = queryset.filter(show_condition(filters.show, user))
    if filters.text:
        # Each condition is an id subquery (no join that could repeat rows), checked on the listed rows as the
        # list walks its order index, so a common word stops at the page's 51st match.
        queryset = queryset.filter(search_condition(filters.text))
    return (
        queryset.select_related("patient", "patient__primary_location", "location", "assigned_to", "channel")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .order_by(F(sort_field).desc(nulls_last=True), "-pk")
    )


@dataclass
class InboxPage:
    """One page of the list: its rows, whether more follow and where the next page starts."""

    rows: list[Conversation]
    has_more: bool
    next_cursor: str
    last_cursor: str = ""  # the last row's position (the poll re-renders down to it)


def inbox_page(
    user: Any,
    filters: InboxFilters,
    *,
    after: Cursor | None = None,
    upto: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> InboxPage:
    """SIZE rows of the list after AFTER (from the top when None), or every row down to UPTO (the poll's:
    what the reader loaded, plus anything new above it; at most MAX_SHOWN): one query, plus one for tags."""
    sort_field = SORT_FIELDS.get(filters.sort, SORT_FIELDS[SORT_ACTIVITY])
    queryset = inbox_conversations(user, filters)
    if after is not None:
        queryset = queryset.filter(_after(sort_field, after))
    if upto is not None:
        queryset = queryset.filter(_at_or_before(sort_field, upto))
        size = MAX_SHOWN
    rows = list(queryset[: size + 1])
    rows, has_more = rows[:size], len(rows) > size
    if upto is not None and not has_more:
        # Every loaded row is back: whether more follow is the question "Show more" answers.
        has_more = inbox_conversations(user, filters).filter(_after(sort_field, upto)).exists()
    cursor = row_cursor(rows[-1], filters.sort) if rows else ""
    return InboxPage(rows=rows, has_more=has_more, next_cursor=cursor if has_more else "", last_cursor=cursor)


# --- counts, version, badge -----------------------------------------------------------------------------


@dataclass
class InboxCounts:
    """Conversations needing attention per quick filter (within status, location and tag), the badge and the
    list's version (see inbox_version)."""

    per_show: dict[str, int]
    unread_messages: int
    badge: int
    version: str


def _version_aggregates(scope: Q) -> dict[str, Any]:
    return {
        "newest": Max("updated_at", filter=scope),
        "rows": Count("pk", filter=scope),
        "unread": Sum("unread_count", filter=scope, default=0),
        "badge": Count("pk", filter=Q(status=Conversation.Status.OPEN, unread_count__gt=0)),
    }


def _version_token(totals: dict[str, Any], filters: InboxFilters) -> str:
    newest = totals["newest"].isoformat() if totals["newest"] else "-"
    raw = f"{newest}|{totals['rows']}|{totals['unread']}|{totals['badge']}|{filters!r}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _counted_rows(user: Any, filters: InboxFilters, scope: Q) -> QuerySet[Conversation]:
    """Only the rows something is counted over: the open ones (the badge) and the scope (closed ones too
    when asked), never the whole history. Open alone when the scope is within the open ones (the usual
    case), so the database reads the open conversations' index (migration 0018) and nothing else."""
    rows = conversations_visible_to(user)
    if filters.status == Conversation.Status.OPEN:
        return rows.filter(status=Conversation.Status.OPEN)
    return rows.filter(Q(status=Conversation.Status.OPEN) | scope)


def inbox_counts(user: Any, filters: InboxFilters) -> InboxCounts:
    """The unread count of every quick filter, the navigation badge and the version, in one aggregate query."""
    scope = scope_condition(filters)
    aggregates: dict[str, Any] = {
        f"show_{code or 'all'}": Count(
            "pk", filter=scope & Q(unread_count__gt=0) & show_condition(code, user)
        )
        for code, _label in SHOW_CHOICES
    }
    aggregates.update(_version_aggregates(scope))
    totals = _counted_rows(user, filters, scope).aggregate(**aggregates)
    return InboxCounts(
        per_show={code: int(totals[f"show_{code or 'all'}"] or 0) for code, _label in SHOW_CHOICES},
        unread_messages=int(totals["unread"] or 0),
        badge=int(totals["badge"] or 0),
        version=_version_token(totals, filters),
    )


COUNTS_CACHE_SECONDS = 600


def inbox_counts_reused(user: Any, filters: InboxFilters, *, version: str | None = None) -> InboxCounts:
    """inbox_counts, kept in the cache under the list's version: while nothing the list shows changed (the
    version, one cheaper query without the row facts, is the same), the counts are the ones worked out last.

    The key holds the person and their locations (the counts of "mine" and the visible rows are theirs) and
    the version, which already names the filters; counts are stored under the version their own query read.
    VERSION: the list's version when the caller has just read it (the poll's).
    """
    version = version or inbox_version(user, filters)
    locations = ",".join(str(pk) for pk in sorted(getattr(user, "location_ids", ()) or ()))
    prefix = f"careline:inbox-counts:{user.pk}:{locations}:"
    found = cache.get(prefix + version)
    if isinstance(found, InboxCounts):
        return found
    counts = inbox_counts(user, filters)
    cache.set(prefix + counts.version, counts, COUNTS_CACHE_SECONDS)
    return counts


def inbox_version(user: Any, filters: InboxFilters) -> str:
    """A short token that changes whenever the list under FILTERS (or the badge) would show something else.

    Every change the list shows moves a conversation's `updated_at` (services, inbound and outbound paths,
    consent changes), so the newest `updated_at`, the number of rows and the unread totals are enough.
    One aggregate query without the row facts: what the list's poll asks every few seconds.
    """
    scope = scope_condition(filters)
    totals = _counted_rows(user, filters, scope).aggregate(**_version_aggregates(scope))
    return _version_token(totals, filters)


def inbox_nav_badge(user: Any) -> int | None:
    """Open conversations needing attention that USER may see (the Inbox badge); None without the inbox."""
    if not has_perm(user, Perm.INBOX_VIEW):
        return None
    return conversations_visible_to(user).filter(status=Conversation.Status.OPEN, unread_count__gt=0).count()
