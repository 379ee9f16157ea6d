"""The team inbox's conversation list: filters, quick filters with unread counts, two orders, "Show more"
pages, search, and a poll that re-renders the list only when something changed; and the list's own actions
(flag, mark unread).

Parse -> authorize -> query -> render. The poll carries X-Careline-Background (so it does not keep a session
alive) and the version the reader has (`v`): an unchanged list answers 204 No Content from one aggregate
query and discloses nothing; a changed one is rendered and audited like any read, one entry per person and
list per few minutes (`audit_read_coalesced`, decided here, never by the header).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_read_coalesced
from careline.core.nav import NavBadges
from careline.core.permissions import Perm, has_perm, require_perm
from careline.core.phones import format_phone
from careline.locations.models import Location
from careline.messaging.channels import channel_inbox_label
from careline.messaging.forms.inbox import BAD_CURSOR, InboxFilterForm
from careline.messaging.models import Conversation
from careline.messaging.queries import inbox as queries
from careline.messaging.queries import inbox_list
from careline.messaging.services import conversations as services
from careline.messaging.views.inbox import wants_detail_pane, wants_list_pane

POLL_SECONDS = 5


def _visible_locations(user: Any) -> list[Location]:
    locations = Location.objects.filter(is_active=True).order_by("name")
    if not has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        locations = locations.filter(pk__in=list(user.location_ids))
    return list(locations)


def _url(request: HttpRequest, params: QueryDict | None = None, **changes: Any) -> str:
    """The list's address with the reader's parameters (PARAMS, else the request's) and CHANGES (None or ''
    drops a parameter)."""
    query = (params if params is not None else request.GET).copy()
    for key in ("v", "row"):
        query.pop(key, None)
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = str(value)
    encoded = query.urlencode()
    return reverse("messaging:inbox") + (f"?{encoded}" if encoded else "")


_PK = 2_147_483_647  # a placeholder id, reversed once per address and replaced by each row's own


def _address_of(name: str) -> Any:
    """A function of a pk giving the address NAME takes for it: `reverse` once, not once per row and link."""
    pattern = reverse(name, args=[_PK])
    return lambda pk: pattern.replace(str(_PK), str(pk))


def _decorate(rows: list[Conversation]) -> None:
    """What each row shows, worked out here rather than by template lookups (a list renders 50 or more)."""
    conversation_url = _address_of("messaging:conversation")
    flag_url = _address_of("messaging:flag")
    unread_url = _address_of("messaging:mark_unread")
    for conversation in rows:
        contact = conversation.contact
        label = channel_inbox_label(conversation.channel.type_code)
        display = label or (format_phone(contact) if contact.startswith("+") else contact)
        patient = conversation.patient
        if patient is not None:
            place = patient.primary_location.name if patient.primary_location else ""
        else:
            place = conversation.location.name if conversation.location else "Unknown sender"
        assignee = conversation.assigned_to
        conversation.__dict__.update(
            contact_display=display,
            row_name=(patient.display_name if patient is not None else "") or display,
            row_url=conversation_url(conversation.pk),
            row_flag_url=flag_url(conversation.pk),
            row_unread_url=unread_url(conversation.pk),
            row_place=place,
            row_assignee=assignee.full_name if assignee is not None else "",
            row_failed=conversation.last_out_failed,
        )


def _show_links(
    request: HttpRequest, params: QueryDict, filters: inbox_list.InboxFilters, counts: Any
) -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "label": label,
            "count": counts.per_show[code],
            "url": _url(request, params, show=code or None, after=None, upto=None),
            "current": code == filters.show,
        }
        for code, label in inbox_list.SHOW_CHOICES
    ]


def _audit(
    request: HttpRequest, filters: inbox_list.InboxFilters, shown: int, more: bool, *, page: str
) -> None:
    audit_read_coalesced(
        request=request,
        action=AuditAction.SEARCH if filters.text else AuditAction.VIEW,
        object_type="messaging.conversation",
        detail=f"inbox list: {filters.describe()}; {page}results={shown}{'+' if more else ''}",
    )


@require_perm(Perm.INBOX_VIEW)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Conversations the person may see, filtered, searched and ordered, a page at a time; polled by HTMX."""
    if wants_detail_pane(request):
        # Back to the list on a phone: the detail pane empties, the list (and its filters) stays.
        return render(request, "messaging/_inbox_detail_empty.html", {"partial": True})
    if wants_list_pane(request):
        # A conversation page loaded by its address asks for the list beside it once it is shown.
        return render(
            request, "messaging/_inbox_list_pane.html", {"nav": "inbox", **inbox_list_context(request)}
        )
    user = request.user
    form = InboxFilterForm(request.GET, locations=_visible_locations(user), tags=queries.tags_in_use())
    filters = form.filters()
    after = form.cleaned_data.get("after")
    htmx = bool(getattr(request, "htmx", False)) and not request.headers.get("HX-History-Restore-Request")
    polled = request.GET.get("v", "")
    version = inbox_list.inbox_version(user, filters) if htmx and polled else None
    if version is not None and polled == version:
        return HttpResponse(status=204)  # the poll: nothing changed, nothing to send (one aggregate query)
    if htmx and after is not None and not polled:
        return _more(request, form, filters, after)
    if "after" in form.errors:
        messages.warning(request, BAD_CURSOR)
        after = None
    # The poll re-renders down to the last row the reader has (rows "Show more" loaded stay on screen).
    upto = form.cleaned_data.get("upto") if htmx else None
    listed = _list_context(request, request.GET, form, filters, after=after, upto=upto, version=version)
    context = {"nav": "inbox", **listed}
    context["oob"] = htmx
    if htmx:
        return render(request, "messaging/_inbox_list_body.html", context)
    return render(request, "messaging/inbox.html", context)


def inbox_list_context(request: HttpRequest) -> dict[str, Any]:
    """The list as the inbox first shows it (open conversations, newest activity), for the left pane a
    conversation page loads after it is shown; audited like the list page."""
    params = QueryDict()
    form = InboxFilterForm(params, locations=_visible_locations(request.user), tags=queries.tags_in_use())
    return _list_context(request, params, form, form.filters(), after=None, upto=None)


def _list_context(
    request: HttpRequest,
    params: QueryDict,
    form: InboxFilterForm,
    filters: inbox_list.InboxFilters,
    *,
    after: inbox_list.Cursor | None,
    upto: Any,
    version: str | None = None,
) -> dict[str, Any]:
    user = request.user
    page = inbox_list.inbox_page(user, filters, after=after, upto=upto)
    counts = inbox_list.inbox_counts_reused(user, filters, version=version)
    _decorate(page.rows)
    _audit(request, filters, len(page.rows), page.has_more, page="later page; " if after else "")
    return {
        "form": form,
        "filters": filters,
        "conversations": page.rows,
        "has_more": page.has_more,
        "more_url": _url(request, params, after=page.next_cursor, upto=None) if page.has_more else "",
        "from_top_url": _url(request, params, after=None, upto=None) if after else "",
        "past_the_end": after is not None and not page.rows,
        "show_links": _show_links(request, params, filters, counts),
        "counts": counts,
        "nav_badges": NavBadges(user, {"inbox": counts.badge}),
        "nav_badges_refreshed_by_page": True,  # the list's poll swaps the badge in: no second poll
        "poll_url": _url(request, params, upto=page.last_cursor, v=counts.version),
        "poll_seconds": POLL_SECONDS,
        "list_url": _url(request, params, upto=None, v=None),
        "oob": False,
    }


def _more(
    request: HttpRequest, form: InboxFilterForm, filters: inbox_list.InboxFilters, after: inbox_list.Cursor
) -> HttpResponse:
    """The next page's rows, appended under the others, with the next "Show more" and an updated poll."""
    page = inbox_list.inbox_page(request.user, filters, after=after)
    _decorate(page.rows)
    _audit(request, filters, len(page.rows), page.has_more, page="later page; ")
    version = inbox_list.inbox_version(request.user, filters)
    upto = page.last_cursor or (form.data.get("after") or "")
    context = {
        "conversations": page.rows,
        "filters": filters,
        "has_more": page.has_more,
        "more_url": _url(request, after=page.next_cursor, upto=None) if page.has_more else "",
        "past_the_end": not page.rows,
        "poll_url": _url(request, after=None, upto=upto, v=version),
        "poll_seconds": POLL_SECONDS,
        "list_url": _url(request, after=None, upto=None, v=None),
    }
    return render(request, "messaging/_inbox_more.html", context)


# --- the list's own actions -------------------------------------------------------------------------------


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@require_perm(Perm.INBOX_VIEW)
@require_POST
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    """Flag or unflag a conversation for a closer look (action=flag|unflag); back to where it was done."""
    conversation = queries.conversation_for_user(request.user, pk, Perm.INBOX_VIEW)
    wanted = {"flag": True, "unflag": False}.get(request.POST.get("action", ""))
    back = _next_url(request, reverse("messaging:conversation", args=[conversation.pk]))
    if wanted is None:
        messages.error(request, "Choose to flag or unflag the conversation.")
        return HttpResponseRedirect(back)
    services.conversation_flag_set(
        conversation=conversation, flagged=wanted, actor=Actor.from_request(request)
    )
    if getattr(request, "htmx", False) and request.POST.get("row"):
        return _row(request, conversation.pk)
    messages.success(request, "The conversation is flagged." if wanted else "The flag is removed.")
    return HttpResponseRedirect(back)


@require_perm(Perm.INBOX_VIEW)
@require_POST
def mark_unread(request: HttpRequest, pk: int) -> HttpResponse:
    """Put the conversation back among those needing attention; back to the list (reading it would clear it)."""
    conversation = queries.conversation_for_user(request.user, pk, Perm.INBOX_VIEW)
    services.conversation_mark_unread(conversation=conversation, actor=Actor.from_request(request))
    if getattr(request, "htmx", False) and request.POST.get("row"):
        return _row(request, conversation.pk)
    messages.success(request, "Marked unread.")
    return HttpResponseRedirect(_next_url(request, reverse("messaging:inbox")))


def _row(request: HttpRequest, pk: int) -> HttpResponse:
    """One list row again, after an action taken from it."""
    row = inbox_list.inbox_conversations(request.user, inbox_list.InboxFilters(status="")).get(pk=pk)
    _decorate([row])
    audit_read_coalesced(
        request=request, obj=row, patient_id=row.patient_id, detail="inbox list row after an action"
    )
    next_url = _next_url(request, reverse("messaging:inbox"))
    return render(request, "messaging/_inbox_rows.html", {"conversations": [row], "list_url": next_url})
