"""What staff do to a conversation besides texting: notes, assignment, close/reopen, tags, linking the
patient on a family phone, the one-click opt-out and dismissing a warning. Each is a POST that redirects
back to the conversation (bad input: a clear message, nothing changed)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from careline.core.actor import Actor
from careline.core.params import row_id
from careline.core.permissions import Perm, check_perm, require_perm
from careline.messaging.forms.inbox import NoteForm, TagForm
from careline.messaging.models import Conversation, Tag
from careline.messaging.queries import inbox as queries
from careline.messaging.services import conversations as services
from careline.messaging.views.conversation import conversation_page_context, render_conversation


def _back(conversation: Conversation, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("messaging:conversation", args=[conversation.pk]) + anchor)


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _conversation(request: HttpRequest, pk: int) -> Conversation:
    return queries.conversation_for_user(request.user, pk, Perm.INBOX_SEND)


@require_perm(Perm.INBOX_SEND)
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an internal note: staff only, never sent."""
    conversation = _conversation(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.internal_note_add(
                conversation=conversation, text=form.cleaned_data["text"], actor=Actor.from_request(request)
            )
        except ValidationError as error:
            form.add_error("text", error)
        else:
            return _back(conversation, "#thread")
    context = conversation_page_context(request, conversation, note_form=form)
    return render_conversation(request, context, status=400)


@require_perm(Perm.INBOX_SEND)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign to a person who may read the conversation ('me' for oneself), or nobody ('')."""
    conversation = _conversation(request, pk)
    raw = request.POST.get("assignee", "")
    if raw == "":
        services.conversation_unassign(conversation=conversation, actor=Actor.from_request(request))
        messages.success(request, "The conversation is unassigned.")
        return _back(conversation)
    wanted = request.user.pk if raw == "me" else row_id(raw)
    assignee = next(
        (person for person in queries.assignable_staff(conversation) if person.pk == wanted), None
    )
    if assignee is None:
        messages.error(request, "Choose someone who can read this conversation.")
        return _back(conversation)
    services.conversation_assign(
        conversation=conversation, assignee=assignee, actor=Actor.from_request(request)
    )
    messages.success(request, f"Assigned to {assignee.full_name}.")
    return _back(conversation)


@require_perm(Perm.INBOX_SEND)
@require_POST
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """Close or reopen."""
    conversation = _conversation(request, pk)
    actions: dict[str, Callable[..., bool]] = {
        "close": services.conversation_close,
        "reopen": services.conversation_reopen,
    }
    action = actions.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, "Choose to close or reopen the conversation.")
    elif action(conversation=conversation, actor=Actor.from_request(request)):
        messages.success(request, f"The conversation is {conversation.get_status_display().lower()}.")
    return _back(conversation)


@require_perm(Perm.INBOX_SEND)
@require_POST
def tag_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a tag on the conversation (created on first use)."""
    conversation = _conversation(request, pk)
    form = TagForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a tag of at most 40 characters.")
        return _back(conversation)
    try:
        services.conversation_tag(
            conversation=conversation, name=form.cleaned_data["name"], actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    return _back(conversation)


@require_perm(Perm.INBOX_SEND)
@require_POST
def tag_remove(request: HttpRequest, pk: int, tag_pk: int) -> HttpResponse:
    """Take a tag off the conversation."""
    conversation = _conversation(request, pk)
    tag = Tag.objects.filter(pk=tag_pk).first()
    if tag is not None:
        services.conversation_untag(conversation=conversation, tag=tag, actor=Actor.from_request(request))
    return _back(conversation)


@require_perm(Perm.INBOX_SEND)
@require_POST
def link_patient(request: HttpRequest, pk: int) -> HttpResponse:
    """On a family phone: link the conversation to the patient staff picked among the number's patients."""
    conversation = _conversation(request, pk)
    raw = request.POST.get("patient", "")
    candidates = queries.conversation_candidates_for(request.user, conversation)
    patient_id = row_id(raw)
    patient = next((c for c in candidates if patient_id is not None and c.pk == patient_id), None)
    if patient is None:
        messages.error(request, "Choose one of the patients this number belongs to.")
        return _back(conversation)
    try:
        services.conversation_link_patient(
            conversation=conversation, patient=patient, actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, f"Linked to {patient.display_name}.")
    return _back(conversation)


@require_perm(Perm.INBOX_SEND)
@require_POST
def opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    """The one-click opt-out for a patient who asked in their own words to stop texts."""
    check_perm(request.user, Perm.CONSENT_RECORD)
    conversation = _conversation(request, pk)
    if not conversation.contact.startswith("+"):
        raise PermissionDenied  # the consent ledger is for phone numbers only
    services.conversation_opt_out(conversation=conversation, actor=Actor.from_request(request))
    messages.success(request, "The number is opted out: no more texts will be sent to it.")
    return _back(conversation)


@require_perm(Perm.INBOX_SEND)
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Clear a warning banner once dealt with."""
    conversation = _conversation(request, pk)
    try:
        services.conversation_flag_dismiss(
            conversation=conversation, flag=request.POST.get("flag", ""), actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, _errors(error))
    return _back(conversation)
