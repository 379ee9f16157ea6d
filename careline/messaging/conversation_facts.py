"""The inbox list's row facts, kept as columns on Conversation: waiting on the patient, last text failed,
opted out.

Each is derived from other rows (messages, the consent ledger); the derived computation lives here once, as
SQL expressions over the conversation being written. The services that move a conversation's `updated_at`
after such a change (a text stored, a delivery failed, a text cancelled or suppressed, a patient's text
processed, a consent entry) set the columns in the same UPDATE with `conversation_facts()`, so the list and
its counts read plain columns (partial indexes, migration 0018) instead of three correlated subqueries per
conversation. `conversation_facts_refresh` recomputes them for any set of conversations (the backfill, the
demo and bench seeds, a test that writes messages directly). Bulk sends (outbound/bulk.py) skip the subqueries:
a conversation they make is inserted with `new_conversation_facts`, and one they write texts no staff member
wrote into moves by `facts_after_texts_not_by_staff`; the property test in tests/test_conversation_facts.py
holds both equal to the derived computation.

- waiting_on_patient: a staff text that was meant to go (not cancelled or suppressed) was written after the
  patient's last text (or the patient never wrote): the ball is the patient's.
- last_out_failed: the newest outbound text that was meant to go ended failed or undelivered.
- opted_out: the newest general consent entry of the conversation's number is a revocation (STOP).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Case, Exists, F, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, In

from careline.messaging.models import Conversation, Message, MessageKind, MessageState
from careline.patients.models import GENERAL_CONSENT_KINDS, ConsentEvent, ConsentKind

FAILED_STATES = (MessageState.FAILED, MessageState.UNDELIVERED)
NEVER_TRIED = (MessageState.CANCELLED, MessageState.SUPPRESSED)  # not "the latest outbound text"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
FACT_FIELDS = ("waiting_on_patient", "last_out_failed", "opted_out")


def consent_kind_expression() -> Subquery:
    """The latest general consent entry of the conversation's number ('given', 'revoked' or NULL)."""
    latest = ConsentEvent.objects.filter(
        phone_number=OuterRef("contact"), kind__in=GENERAL_CONSENT_KINDS
    ).order_by("-occurred_at", "-id")
    return Subquery(latest.values("kind")[:1])


def last_outbound_state_expression() -> Subquery:
    """The state of the newest outbound text that was meant to go (cancelled and suppressed ones were not)."""
    latest = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.OUTBOUND)
        .exclude(state__in=NEVER_TRIED)
        .order_by("-created_at", "-id")
    )
    return Subquery(latest.values("state")[:1])


def waiting_on_patient_expression(patient_wrote_at: Any = None) -> Exists:
    """A staff text meant to go was written after the patient's last text (PATIENT_WROTE_AT: an expression
    for that moment when the same UPDATE moves it, since SET expressions read the row's old values)."""
    wrote_at = OuterRef("last_patient_message_at") if patient_wrote_at is None else patient_wrote_at
    ours = Message.objects.filter(
        conversation=OuterRef("pk"),
        direction=Message.Direction.OUTBOUND,
        kind=MessageKind.STAFF,
        created_at__gt=Coalesce(wrote_at, Value(LONG_AGO)),
    ).exclude(state__in=NEVER_TRIED)
    return Exists(ours)


def _as_boolean(condition: Any) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False))


def conversation_facts(*, patient_wrote_at: Any = None) -> dict[str, Any]:
    """The three fact columns as expressions over the row being updated: `.update(**conversation_facts())`."""
    return {
        "waiting_on_patient": _as_boolean(waiting_on_patient_expression(patient_wrote_at)),
        "last_out_failed": _as_boolean(In(last_outbound_state_expression(), list(FAILED_STATES))),
        "opted_out": _as_boolean(Exact(consent_kind_expression(), ConsentKind.REVOKED)),
    }


def new_conversation_facts(*, consent: str) -> dict[str, bool]:
    """The fact columns of a conversation made for outbound texts no staff member wrote, as its derived facts
    stand once those texts are written (bulk sends insert it with them instead of rewriting it after).

    With no text of the patient's and none of staff's in it, nobody waits on the patient; its texts are new,
    queued or suppressed, so none failed; it is opted out when CONSENT, the latest general consent entry of its
    number (`consent_states`), is a revocation. A staff text decides waiting_on_patient: recompute then.
    """
    return {
        "waiting_on_patient": False,
        "last_out_failed": False,
        "opted_out": consent == ConsentKind.REVOKED,
    }


def facts_after_texts_not_by_staff(*, meant_to_go: Iterable[int]) -> dict[str, Any]:
    """The fact columns, as expressions, after outbound texts no staff member wrote went into conversations whose
    facts were in step: `.update(**facts_after_texts_not_by_staff(...))`, with no subquery per row.

    waiting_on_patient and opted_out stay (only staff texts and the consent ledger move them); last_out_failed
    becomes false in the conversations (ids MEANT_TO_GO) that received one that was meant to go (queued, not
    suppressed): it is now their newest such text, and it has not failed.
    """
    went = list(meant_to_go)
    if not went:
        return {}
    return {"last_out_failed": Case(When(pk__any_of=went, then=Value(False)), default=F("last_out_failed"))}


def conversation_facts_refresh(conversations: QuerySet[Conversation] | Any) -> int:
    """Recompute the facts of CONVERSATIONS (a queryset, an id or ids) in one UPDATE; rows written."""
    if not isinstance(conversations, QuerySet):
        ids = conversations if isinstance(conversations, list | tuple | set) else [conversations]
        conversations = Conversation.objects.filter(pk__in=list(ids))
    return conversations.update(**conversation_facts())


def derived_facts(conversations: QuerySet[Conversation]) -> dict[int, dict[str, bool]]:
    """The facts as the old correlated subqueries work them out, per conversation id (tests compare)."""
    rows = conversations.annotate(
        d_consent=consent_kind_expression(),
        d_last_out=last_outbound_state_expression(),
        d_waiting=waiting_on_patient_expression(),
    ).values_list("pk", "d_consent", "d_last_out", "d_waiting")
    return {
        pk: {
            "waiting_on_patient": bool(waiting),
            "last_out_failed": last_out in FAILED_STATES,
            "opted_out": consent == ConsentKind.REVOKED,
        }
        for pk, consent, last_out, waiting in rows
    }


def stored_facts(conversations: QuerySet[Conversation]) -> dict[int, dict[str, bool]]:
    """The fact columns as stored, per conversation id."""
    return {row.pop("pk"): row for row in conversations.values("pk", *FACT_FIELDS)}
