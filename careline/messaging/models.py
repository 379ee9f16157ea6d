"""Channels, conversations and messages: every text or email is a row with a state before anything is sent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from careline.messaging.channels import channel_type, channel_type_choices
from careline.messaging.channels.base import ChannelType
from careline.patients.models import Purpose

PREVIEW_LENGTH = 160  # characters of the patient's last text kept on the conversation for the list


class KeywordReplies(models.TextChoices):
    PROVIDER = "provider", "The provider answers STOP, START and HELP"
    CARELINE = "careline", "Careline answers STOP, START and HELP"


class Channel(models.Model):
    """A configured way to reach patients: a sender number at an SMS provider, or an email sender.

    `config` holds the type's non-secret settings; a secret field holds the NAME of the environment
    variable with the secret (secrets never live in the database).
    """

    class Source(models.TextChoices):
        UI = "ui", "Configured by an administrator"
        ENVIRONMENT = "environment", "From environment variables"

    name = models.CharField(max_length=100)
    type_code = models.CharField(
        "type",
        max_length=30,
        choices=channel_type_choices,
        help_text="One of settings.CARELINE_CHANNEL_TYPES",
    )
    address = models.CharField(max_length=254, help_text="Sender number (E.164) or email address")
    config = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    default_for = models.CharField(
        max_length=10,
        blank=True,
        choices=[("sms", "Texts"), ("email", "Email")],
        help_text="The channel automated messages of this kind go out on",
    )
    rate_per_second = models.FloatField(null=True, blank=True, help_text="Blank: no limit")
    keyword_replies = models.CharField(
        max_length=10, choices=KeywordReplies.choices, default=KeywordReplies.CARELINE
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.UI)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["default_for"], condition=~Q(default_for=""), name="channel_one_default_per_kind"
            ),
            # Web, worker and beat reconcile the TWILIO_* channel as they start, often at the same moment.
            models.UniqueConstraint(
                fields=["source"], condition=Q(source="environment"), name="channel_one_from_environment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type_code})"

    @property
    def type(self) -> ChannelType:
        """The installed type of this channel; UnknownChannelType when it is no longer installed."""
        return channel_type(self.type_code)


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """The thread with one contact address on one channel. Several patients may share the number."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    contact = models.CharField(max_length=254, help_text="The patient's number (E.164) or email address")
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        help_text="Blank while nobody or several patients match the number",
    )
    location = models.ForeignKey("locations.Location", null=True, blank=True, on_delete=models.SET_NULL)
    # No index of its own: the (status, ...) list indexes below answer every status filter.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    # Needs attention: texts from the patient a person must read (see docs/architecture.md, "The inbox").
    # Texts Careline handled by itself (keywords, answers routed to a feature) and everything outbound
    # leave it alone.
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_patient_message_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient last wrote (any text of theirs, never ours)"
    )
    last_patient_preview = models.CharField(
        max_length=PREVIEW_LENGTH, blank=True, help_text="The start of the patient's last text, for the list"
    )
    flagged = models.BooleanField(default=False, help_text="Flagged by staff or a feature for a closer look")
    # Moves on every change the inbox list shows: the list's poll compares it instead of re-rendering.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The list's row facts, derived from messages and the consent ledger and kept in step by the services
    # that move updated_at (careline/messaging/conversation_facts.py), so the list and its counts read columns.
    waiting_on_patient = models.BooleanField(
        default=False, help_text="Staff wrote after the patient's last text (or the patient never wrote)"
    )
    last_out_failed = models.BooleanField(
        default=False, help_text="The newest outbound text that was meant to go failed or was not delivered"
    )
    opted_out = models.BooleanField(
        default=False, help_text="The number's latest general consent entry is a revocation (STOP)"
    )
    opt_out_suspected = models.BooleanField(
        default=False, help_text="The patient wrote something that reads like 'stop texting me'"
    )
    visit_cancel_suspected = models.BooleanField(
        default=False, help_text="The patient replied CANCEL (an opt-out) and may have meant a visit"
    )
    after_hours_replied_for = models.DateTimeField(
        null=True, blank=True, help_text="Start of the closed period last answered with the after-hours reply"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "contact"], name="conversation_unique_contact")
        ]
        indexes = [
            models.Index(fields=["status", "-last_message_at"]),
            models.Index(fields=["status", "-last_patient_message_at"], name="conversation_patient_order"),
        ]

    def __str__(self) -> str:
        return f"Conversation with {self.contact}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A linked conversation is at its patient's location (kept in step when the patient moves,
        # services/conversations.py), so the inbox judges visibility on this column alone.
        patient = self.patient if self.patient_id is not None and self.location_id is None else None
        if patient is not None:
            self.location_id = patient.primary_location_id
        super().save(*args, **kwargs)


class MessageState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Not delivered"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent"
    CANCELLED = "cancelled", "Cancelled"
    RECEIVED = "received", "Received"


# Order of the delivery states: a callback may only move a message forward, and terminal states never move.
STATE_RANK = {
    MessageState.QUEUED: 0,
    MessageState.SENDING: 1,
    MessageState.SENT: 2,
    MessageState.DELIVERED: 3,
    MessageState.UNDELIVERED: 3,
    MessageState.FAILED: 3,
}
TERMINAL_STATES = frozenset(
    {
        MessageState.DELIVERED,
        MessageState.UNDELIVERED,
        MessageState.FAILED,
        MessageState.SUPPRESSED,
        MessageState.CANCELLED,
        MessageState.RECEIVED,
    }
)


class SuppressionReason(models.TextChoices):
    NO_CONSENT = "no_consent", "No text-message consent on file"
    NO_PURPOSE_CONSENT = "no_purpose_consent", "No consent on file for texts of this purpose"
    OPTED_OUT = "opted_out", "The number opted out (STOP)"
    DECEASED = "deceased", "The patient is deceased"
    CONFIDENTIAL = "confidential", "Confidential communications: no texts or email"
    LANDLINE = "landline", "The number is a landline"
    INVALID_NUMBER = "invalid_number", "The number is not valid"
    CHANNEL_DISABLED = "channel_disabled", "The channel is disabled"
    NO_CONTACT = "no_contact", "No number or address to send to"


class MessageKind(models.TextChoices):
    STAFF = "staff", "Staff message"
    AUTOMATED = "automated", "Automated"
    KEYWORD_REPLY = "keyword_reply", "Keyword reply"
    AUTO_REPLY = "auto_reply", "After-hours reply"
    ANNOUNCEMENT = "announcement", "Announcement"
    PATIENT = "patient", "From the patient"


SENSITIVE_BODY_SHOWN = "(A one-time sign-in code or a private link was sent; its text is not shown to staff.)"


class Message(models.Model):
    """One text or email, in or out. Outbound rows move queued -> sending -> sent -> delivered (or fail)."""

    class Direction(models.TextChoices):
        INBOUND = "in", "From the patient"
        OUTBOUND = "out", "To the patient"

    # Messages are the table every fan-out writes: no index that another one already answers (migration 0023).
    # (conversation, created_at) and (patient, -created_at) below serve the look-ups by conversation or patient.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="messages")
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=15, choices=MessageKind.choices, default=MessageKind.STAFF)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.GENERAL)
    to_address = models.CharField(max_length=254)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # A one-time code or a private link (a portal invitation): staff see that it was sent, never its text,
    # or they could sign in as the patient.
    sensitive = models.BooleanField(default=False)
    media = models.JSONField(
        default=list,
        blank=True,
        help_text="[{url, content_type, state, file, error}]; inbound files are copied into storage",
    )
    state = models.CharField(max_length=12, choices=MessageState.choices)  # (state, due_at) below answers it
    suppression_reason = models.CharField(max_length=20, choices=SuppressionReason.choices, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    provider_message_id = models.CharField(max_length=64, null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # unique: see Meta
    # What the message is about, e.g. "appointment:12": when that changes, the owning app withdraws the
    # queued and held messages about it (messages_withdraw_for_subject), and dispatch re-checks it.
    subject_key = models.CharField(max_length=64, blank=True, default="")  # indexed: see Meta
    urgent = models.BooleanField(default=False, help_text="Not held by quiet hours")
    scheduled = models.BooleanField(
        default=False, help_text="Set by staff to go later; editable until it goes"
    )
    held_for_quiet_hours = models.BooleanField(default=False)
    due_at = models.DateTimeField(null=True, blank=True, help_text="Not sent before this time")
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When a send task was last queued")
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Inbound only: the provider's own keyword classification (Twilio's OptOutType), kept for processing.
    provider_opt_out_type = models.CharField(max_length=10, blank=True)
    processed_at = models.DateTimeField(
        null=True, blank=True, help_text="Inbound only: when matching, keywords and replies were done"
    )
    # Inbound only: the copy of the patient's files from the provider is a due row like a send (retries
    # with backoff, a lease while a worker copies), so a worker that dies or a provider hiccup loses nothing.
    media_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Inbound only: when media still to copy are next tried"
    )
    media_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Inbound only: how many times copying the media was started"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    announcement = models.ForeignKey(
        "messaging.Announcement", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    segments = models.PositiveSmallIntegerField(default=0)
    encoding = models.CharField(max_length=6, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_unique_provider_id",
            ),
            # Declared here rather than with unique=True, which also adds a LIKE-pattern index nobody reads.
            models.UniqueConstraint(fields=["idempotency_key"], name="message_unique_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["subject_key"], name="message_subject_key"),  # equality only: no LIKE index
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["patient", "-created_at"]),
            # Small: only inbound rows stored but not yet processed (the sweep recovers lost tasks).
            models.Index(
                fields=["created_at"],
                condition=Q(direction="in", processed_at__isnull=True),
                name="message_inbound_unprocessed",
            ),
            # Small: only inbound rows with media still to copy (the media sweep reads it).
            models.Index(
                fields=["media_due_at"],
                condition=Q(media_due_at__isnull=False),
                name="message_media_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message {self.pk} ({self.state})"

    @property
    def staff_body(self) -> str:
        """The text as staff may read it: a sensitive message's text (a code, a private link) is withheld."""
        return SENSITIVE_BODY_SHOWN if self.sensitive else self.body

    @property
    def is_outbound(self) -> bool:
        return self.direction == self.Direction.OUTBOUND

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES


class InternalNote(models.Model):
    """A note in a conversation that only staff see."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="internal_notes")
    # Blank for notes Careline writes itself (a reply handed to the front desk with its context).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note by {self.author} at {self.created_at:%Y-%m-%d %H:%M}"


class ConversationEvent(models.Model):
    """Assignment, closing, reopening, tagging and similar: the history of a conversation."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        UNASSIGNED = "unassigned", "Unassigned"
        CLOSED = "closed", "Closed"
        REOPENED = "reopened", "Reopened"
        TAGGED = "tagged", "Tagged"
        UNTAGGED = "untagged", "Tag removed"
        PATIENT_LINKED = "patient_linked", "Patient linked"
        OPTED_OUT = "opted_out", "Opted out"
        OPTED_IN = "opted_in", "Opted back in"
        FLAGGED = "flagged", "Flagged"
        UNFLAGGED = "unflagged", "Flag removed"
        MARKED_UNREAD = "marked_unread", "Marked unread"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.detail}".strip()


class SavedReply(models.Model):
    """A reusable reply with placeholders such as {first_name} and {location_phone}."""

    title = models.CharField(max_length=80)
    body = models.TextField()
    location = models.ForeignKey("locations.Location", null=True, blank=True, on_delete=models.CASCADE)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return self.title


class Announcement(models.Model):
    """One templated message to a filtered set of patients, sent through the same pipeline."""

    class State(models.TextChoices):
        PREPARING = "preparing", "Preparing"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"

    title = models.CharField(max_length=100)
    body = models.TextField()
    location = models.ForeignKey("locations.Location", null=True, blank=True, on_delete=models.PROTECT)
    language = models.CharField(max_length=5, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREPARING)
    total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


AFTER_HOURS_TEXT_EN = (
    "{location_name} is closed now. We will answer when we open. If this is an emergency, call 911."
)
AFTER_HOURS_TEXT_ES = (
    "{location_name} está cerrado ahora. Le responderemos cuando abramos. Si es una emergencia, llame al 911."
)


def default_after_hours_translations() -> dict[str, str]:
    """A new policy's after-hours answer in the shipped translations (by language code)."""
    return {"es": AFTER_HOURS_TEXT_ES}


class MessagingPolicy(models.Model):
    """A location's texting window (quiet hours outside it) and after-hours reply."""

    location = models.OneToOneField(
        "locations.Location", on_delete=models.CASCADE, related_name="messaging_policy"
    )
    # Both empty: the location follows CARELINE_TEXTING_WINDOW (see outbound.policy.texting_window).
    window_start = models.TimeField(
        null=True, blank=True, help_text="Automated texts wait until this local time"
    )
    window_end = models.TimeField(null=True, blank=True, help_text="…and stop at this local time")
    after_hours_reply_enabled = models.BooleanField(default=True)
    after_hours_text = models.CharField(max_length=320, default=AFTER_HOURS_TEXT_EN)
    # By language code: patients who prefer that language get its text; none or blank, the English one.
    after_hours_translations = models.JSONField(default=default_after_hours_translations, blank=True)

    class Meta:
        verbose_name_plural = "messaging policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True, window_end__isnull=True)
                | models.Q(window_start__isnull=False, window_end__isnull=False),
                name="messaging_policy_window_both_or_neither",
            )
        ]

    def __str__(self) -> str:
        return f"Messaging policy of {self.location}"

    def after_hours_text_for(self, language: str) -> str:
        """The after-hours answer template for a patient who prefers LANGUAGE."""
        translated = (self.after_hours_translations or {}).get(language, "")
        if language != "en" and isinstance(translated, str) and translated.strip():
            return translated
        return self.after_hours_text

    @property
    def has_own_window(self) -> bool:
        """Whether this location overrides CARELINE_TEXTING_WINDOW."""
        return self.window_start is not None and self.window_end is not None


class RateBucket(models.Model):
    """The next free send slot under one rate limit (a channel, a sender number, a Messaging Service), shared
    by every worker on every host; used when Careline runs without Redis (outbound/ratelimit.py)."""

    key = models.CharField(max_length=200, unique=True)
    next_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: next at {self.next_at}"


class PromptState(models.TextChoices):
    OPEN = "open", "Waiting for a reply"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    SUPERSEDED = "superseded", "Replaced by a newer question"


class Prompt(models.Model):
    """A question texted to a number that a reply may answer, owned by the feature that asked it.

    Messaging routes a reply to the handler registered for the owner of the number's newest open prompt
    (careline/messaging/replies.py); what the kinds and options mean is the owner's business.
    """

    phone_number = models.CharField(max_length=20, db_index=True)
    conversation = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.SET_NULL)
    owner = models.CharField(max_length=30, help_text="The feature that asked: scheduling, surveys ...")
    kind = models.CharField(
        max_length=30, help_text="The owner's kind of question (reminder, reschedule ...)"
    )
    # What the question is about, as on Message.subject_key ("appointment:12"); blank when nothing one.
    subject_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    options = models.JSONField(
        default=list, blank=True, help_text="The answers offered, as the owner reads them"
    )
    state = models.CharField(max_length=10, choices=PromptState.choices, default=PromptState.OPEN)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone_number", "state", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.owner} {self.kind} to {self.phone_number}"


class ConversationSearch(models.Model):
    """The distinct words of a conversation's messages, for the inbox's message-text search on PostgreSQL.

    Kept by a trigger on messages (migration 0019): an insert adds the message's new words, a changed or
    deleted message rebuilds the document from what remains, so every write path (bulk sends, imports, the
    demo) keeps it without asking. One small row per conversation answers "which conversations mention
    this" from a GIN index without visiting a million message rows. SQLite never fills it (its search reads
    the message bodies)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    document = SearchVectorField(null=True)

    def __str__(self) -> str:
        return f"search words of conversation {self.conversation_id}"


class StatusCallback(models.Model):
    """A provider's delivery report as the webhook stored it (verified), before it is applied to its message.

    The webhook only appends here; `status_callbacks_apply` applies them in batches (one set-based UPDATE,
    forward moves only). A report for a message not known yet stays waiting for a while, then is kept as
    `unmatched` (counted, never applied).
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    message_id = models.BigIntegerField(null=True, blank=True)  # the status URL's ?m=, when it names one
    provider_message_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=20)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    opted_out = models.BooleanField(default=False)
    landline = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    unmatched = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(applied_at__isnull=True), name="status_callback_waiting"
            ),
        ]

    def __str__(self) -> str:
        return f"status {self.state} for {self.message_id or self.provider_message_id}"
