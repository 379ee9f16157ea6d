"""The Django side of the chaos run: the clinic it seeds, the progress it polls while draining, and the history
checker that compares Careline's rows with what the provider (the double) received and what it posted back.

Imported only once Django is configured for the run's own database (bench/chaos.py).
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db import close_old_connections, connection
from django.db.utils import DatabaseError
from django.utils import timezone

from bench.reminders import hour_before_rule, load
from careline.messaging.models import (
    Channel,
    KeywordReplies,
    Message,
    MessageKind,
    MessageState,
    StatusCallback,
)
from careline.messaging.testing.twilio_double import RecordedRequest, TwilioDouble
from careline.patients.models import ConsentEvent, ConsentKind
from careline.scheduling.models import Reminder, ReminderState
from careline.scheduling.services.reminders import reminders_plan_bulk

SENDER = "+15555550177"
TOKEN_VARIABLE = "CARELINE_CHAOS_TWILIO_AUTH_TOKEN"
INBOUND_BODIES = (("C", 40), ("HELP", 20), ("Running ten minutes late, sorry", 38), ("STOP", 2))
OPTED_OUT_SHARE = 0.02
OPEN_OUTBOUND = (MessageState.QUEUED, MessageState.SENDING, MessageState.SENT)


@dataclass
class Clinic:
    """What the run seeded: the channel, the patients' numbers, and those opted out before the run."""

    channel: Channel
    numbers: list[str]
    opted_out: set[str]
    reminders: list[int]


def seed(
    double: TwilioDouble, reminders: int, *, client_timeout: float, rate_per_second: float, seed: int
) -> Clinic:
    """REMINDERS patients (mobile, consent given), a visit each in 3 hours and a 1-hour-before reminder each
    (planned, not yet due); 2% of the numbers opted out before the run; the Twilio channel on the double,
    limited to RATE_PER_SECOND across every worker (so the burst lasts through the faults)."""
    Channel.objects.filter(default_for="sms").update(default_for="")
    channel = Channel.objects.create(
        name="Twilio (chaos)",
        type_code="twilio",
        address=SENDER,
        config={
            "account_sid": double.account_sid,
            "auth_token_env": TOKEN_VARIABLE,
            "from_number": SENDER,
            "messaging_service_sid": "",
            "api_base_url": double.url,
            "timeout_seconds": client_timeout,
        },
        keyword_replies=KeywordReplies.CARELINE,
        default_for="sms",
        rate_per_second=rate_per_second,
    )
    rule = hour_before_rule()
    appointment_ids = load(reminders, prefix="D", starts_in=timedelta(hours=3))
    reminders_plan_bulk(appointment_ids=appointment_ids)
    reminder_ids = list(Reminder.objects.filter(rule=rule).values_list("pk", flat=True))
    numbers = sorted(ConsentEvent.objects.values_list("phone_number", flat=True).distinct())
    chooser = random.Random(seed)
    opted_out = set(chooser.sample(numbers, int(len(numbers) * OPTED_OUT_SHARE)))
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            phone_number=number, kind=ConsentKind.REVOKED, method="staff", occurred_at=timezone.now()
        )
        for number in sorted(opted_out)
    )
    return Clinic(channel=channel, numbers=numbers, opted_out=opted_out, reminders=reminder_ids)


def burst(clinic: Clinic) -> int:
    """Every planned reminder falls due now (a clinic's 10:00)."""
    return Reminder.objects.filter(pk__in=clinic.reminders).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


def inbound_forms(clinic: Clinic, count: int, *, seed: int) -> list[dict[str, str]]:
    """COUNT inbound texts from the patients' numbers, as Twilio posts them, each with its own MessageSid."""
    chooser = random.Random(seed)
    bodies = [body for body, weight in INBOUND_BODIES for _ in range(weight)]
    candidates = [n for n in clinic.numbers if n not in clinic.opted_out]
    forms = []
    for _ in range(count):
        sid = "SM" + secrets.token_hex(16)
        forms.append(
            {
                "MessageSid": sid,
                "SmsMessageSid": sid,
                "SmsSid": sid,
                "AccountSid": clinic.channel.config["account_sid"],
                "From": chooser.choice(candidates),
                "To": SENDER,
                "Body": chooser.choice(bodies),
                "NumMedia": "0",
                "NumSegments": "1",
                "ApiVersion": "2010-04-01",
                "SmsStatus": "received",
            }
        )
    return forms


def progress(clinic: Clinic) -> dict[str, int] | None:
    """What is still open: due reminders not handed over, outbound texts not delivered, inbound texts not
    processed, delivery reports not applied. None while the database cannot be reached."""
    try:
        close_old_connections()
        now = timezone.now()
        return {
            "reminders": Reminder.objects.filter(
                pk__in=clinic.reminders,
                state__in=(ReminderState.PENDING, ReminderState.SENDING),
                due_at__lte=now,
            ).count(),
            "outbound": Message.objects.filter(
                direction=Message.Direction.OUTBOUND, state__in=OPEN_OUTBOUND
            ).count(),
            "inbound": Message.objects.filter(
                direction=Message.Direction.INBOUND, processed_at__isnull=True
            ).count(),
            "reports": StatusCallback.objects.filter(applied_at__isnull=True, unmatched=False).count(),
        }
    except DatabaseError:
        connection.close()
        return None


@dataclass
class Event:
    """A fault the harness caused, at a wall-clock time (the double's clock)."""

    at: float
    what: str


@dataclass
class History:
    """The history checker's findings; `problems` empty means the run kept every guarantee."""

    figures: dict[str, Any] = field(default_factory=dict)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _message_id(request: RecordedRequest) -> int | None:
    url = request.get("StatusCallback")
    values = parse_qs(urlsplit(url).query).get("m") if url else None
    return int(values[0]) if values else None


def check(
    clinic: Clinic,
    double: TwilioDouble,
    inbound: list[dict[str, str]],
    events: list[Event],
    *,
    client_timeout: float,
) -> History:
    """Compare Careline's rows with the double's record of requests and the webhooks posted."""
    history = History()
    problems = history.problems
    posts = sorted(
        (r for r in double.requests if r.method == "POST" and r.path.endswith("/Messages.json")),
        key=lambda r: r.arrived,
    )
    by_message: dict[int, list[RecordedRequest]] = defaultdict(list)
    for post in posts:
        message_id = _message_id(post)
        if message_id is None:
            problems.append(f"a post to {post.get('To')} without a status callback naming its message")
            continue
        by_message[message_id].append(post)

    # Reminders: every due one handed to messaging, or skipped for a reason.
    reminder_states = Counter(
        Reminder.objects.filter(pk__in=clinic.reminders).values_list("state", flat=True)
    )
    history.figures["reminder_states"] = dict(reminder_states)
    open_reminders = reminder_states[ReminderState.PENDING] + reminder_states[ReminderState.SENDING]
    if open_reminders:
        problems.append(f"lost: {open_reminders} due reminders never handed to messaging")

    # Outbound texts: every one delivered (or not sent for a reason), each accepted once by the provider.
    outbound = list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND).values(
            "pk", "state", "kind", "to_address", "provider_message_id", "error_message"
        )
    )
    states = Counter(row["state"] for row in outbound)
    history.figures["outbound"] = dict(states)
    history.figures["outbound_by_kind"] = dict(Counter(row["kind"] for row in outbound))
    for state in (*OPEN_OUTBOUND, MessageState.FAILED, MessageState.UNDELIVERED):
        if states[state]:
            problems.append(f"lost: {states[state]} outbound texts ended {state}")
    revoked = _revocations()
    kills = sorted(e.at for e in events if e.what.startswith(("kill", "postgres")))
    explained: Counter[str] = Counter()
    for row in outbound:
        accepted = [p for p in by_message.get(row["pk"], []) if p.sid]
        if row["state"] == MessageState.SUPPRESSED:
            if row["to_address"] not in revoked:
                problems.append(
                    f"text {row['pk']} not sent ({row['error_message']}) to a number never opted out"
                )
            if accepted:
                problems.append(f"text {row['pk']} marked not sent, yet the provider accepted it")
            continue
        if row["state"] != MessageState.DELIVERED:
            continue
        if not accepted:
            problems.append(f"text {row['pk']} delivered without the provider accepting it")
            continue
        if row["provider_message_id"] not in {p.sid for p in accepted}:
            problems.append(f"text {row['pk']} keeps a provider id the provider never gave it")
        if len(accepted) > 1:
            reason = _why_sent_again(accepted, kills, client_timeout)
            explained[reason or "unexplained"] += 1
            history.duplicates.append({"message": row["pk"], "accepted": len(accepted), "why": reason})
            if reason is None:
                problems.append(
                    f"duplicate: text {row['pk']} accepted {len(accepted)} times with no ambiguous answer"
                )
    history.figures["duplicates"] = dict(explained)
    history.figures["provider_posts"] = len(posts)
    history.figures["provider_answers"] = dict(Counter(str(p.status) for p in posts))

    # Nothing to a number after it opted out (the STOP's own confirmation aside).
    kinds = {row["pk"]: row["kind"] for row in outbound}
    after_stop = 0
    for message_id, message_posts in by_message.items():
        for post in message_posts:
            since = revoked.get(post.get("To"))
            if (
                post.sid
                and since is not None
                and post.arrived > since
                and kinds.get(message_id) != MessageKind.KEYWORD_REPLY
            ):
                after_stop += 1
    history.figures["texts_after_opt_out"] = after_stop
    if after_stop:
        problems.append(f"{after_stop} texts accepted by the provider after their number opted out")

    # Inbound texts: each stored exactly once, whatever the retries and duplicate posts, and processed.
    sids = [form["MessageSid"] for form in inbound]
    stored = Counter(
        Message.objects.filter(direction=Message.Direction.INBOUND, provider_message_id__in=sids).values_list(
            "provider_message_id", flat=True
        )
    )
    missing = sum(1 for sid in sids if stored[sid] == 0)
    twice = sum(1 for sid in sids if stored[sid] > 1)
    unprocessed = Message.objects.filter(
        direction=Message.Direction.INBOUND, processed_at__isnull=True
    ).count()
    history.figures["inbound"] = {
        "posted": len(sids),
        "stored": sum(stored.values()),
        "unprocessed": unprocessed,
    }
    if missing:
        problems.append(f"lost: {missing} inbound texts answered 2xx but not stored")
    if twice:
        problems.append(f"duplicate: {twice} inbound texts stored more than once")
    if unprocessed:
        problems.append(f"{unprocessed} inbound texts never processed")

    # Delivery reports: every one applied (the message's state already says so above).
    waiting = StatusCallback.objects.filter(applied_at__isnull=True).count()
    history.figures["reports"] = {
        "stored": StatusCallback.objects.count(),
        "waiting": waiting,
        "unmatched": StatusCallback.objects.filter(unmatched=True).count(),
    }
    if waiting:
        problems.append(f"{waiting} delivery reports never applied")
    return history


def timeline(double: TwilioDouble, start: float, step: float) -> list[int]:
    """Texts the provider accepted in each STEP seconds from START (the burst): how long the burst lasted."""
    counts: Counter[int] = Counter()
    for request in double.requests:
        if request.method == "POST" and request.sid:
            counts[int((request.arrived - start) // step)] += 1
    return [counts[index] for index in range(max(counts, default=-1) + 1)]


def _revocations() -> dict[str, float]:
    """Each opted-out number (its latest general consent entry is an opt-out) and when it opted out."""
    latest: dict[str, tuple[datetime, str]] = {}
    for number, kind, at in ConsentEvent.objects.filter(
        kind__in=(ConsentKind.GIVEN, ConsentKind.REVOKED)
    ).values_list("phone_number", "kind", "occurred_at"):
        if number not in latest or at >= latest[number][0]:
            latest[number] = (at, kind)
    return {n: at.timestamp() for n, (at, kind) in latest.items() if kind == ConsentKind.REVOKED}


def _why_sent_again(accepted: list[RecordedRequest], kills: list[float], client_timeout: float) -> str | None:
    """Why a text the provider accepted was sent again: an answer the sender never got. None: no reason."""
    for earlier, later in itertools.pairwise(accepted):
        if earlier.at - earlier.arrived >= client_timeout:
            return "the provider's answer came after the client's timeout"
        if any(earlier.arrived <= kill <= later.arrived for kill in kills):
            return "the sending worker (or the database) died before it recorded the answer"
    return None
