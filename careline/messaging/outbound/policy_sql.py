"""The suppression rule of careline/messaging/outbound/policy.py as database expressions, for counting whole
audiences at once: `with_text_reason` annotates a patient queryset with the number `patient_sms_number` would
choose and the reason `suppression_reason_for` would give for a text to it ('' when it would go). The tests
pin the two equal on a varied set of patients; a change to one rule is a change to both."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from careline.messaging.models import Channel, MessageKind, SuppressionReason
from careline.messaging.outbound.policy import AUTOMATED_KINDS, purpose_needs_consent
from careline.patients.models import (
    GENERAL_CONSENT_KINDS,
    PURPOSE_CONSENT_KINDS,
    ConsentEvent,
    ConsentKind,
    Patient,
    PatientPhone,
    PatientStatus,
    PhoneKind,
)


def _latest_kind(kinds: Any) -> Subquery:
    """The kind of the newest ledger entry of KINDS for the annotated number (as consent_state orders them)."""
    return Subquery(
        ConsentEvent.objects.filter(phone_number=OuterRef("sms_number"), kind__in=list(kinds))
        .order_by("-occurred_at", "-id")
        .values("kind")[:1],
        output_field=CharField(),
    )


def with_text_reason(
    patients: QuerySet[Patient], *, channel: Channel, purpose: str, kind: str = MessageKind.AUTOMATED
) -> QuerySet[Patient]:
    """PATIENTS annotated with `sms_number` and `text_reason`: suppression_reason_for(channel=CHANNEL,
    address=sms_number, patient, kind=KIND, purpose=PURPOSE), computed by the database."""
    phones = PatientPhone.objects.filter(patient=OuterRef("pk")).order_by(
        Case(When(kind=PhoneKind.MOBILE, then=Value(0)), default=Value(1), output_field=IntegerField()),
        F("is_primary").desc(),
        "id",
    )
    patients = patients.annotate(sms_number=Subquery(phones.values("number")[:1], output_field=CharField()))
    if not channel.is_active:
        return patients.annotate(
            text_reason=Value(SuppressionReason.CHANNEL_DISABLED, output_field=CharField())
        )
    rules: list[When] = [
        When(Q(sms_number__isnull=True) | Q(sms_number=""), then=Value(SuppressionReason.NO_CONTACT))
    ]
    rules.append(When(status=PatientStatus.DECEASED, then=Value(SuppressionReason.DECEASED)))
    allowed = (
        kind == MessageKind.KEYWORD_REPLY
        or channel.type.stays_in_careline
        or "sms" not in channel.type.capabilities
    )
    if not allowed:
        rules.append(When(confidential_communications=True, then=Value(SuppressionReason.CONFIDENTIAL)))
        rules.append(When(~Q(sms_number__startswith="+"), then=Value(SuppressionReason.INVALID_NUMBER)))
        same_number = PatientPhone.objects.filter(number=OuterRef("sms_number"))
        landline = Exists(same_number.filter(kind=PhoneKind.LANDLINE)) & ~Exists(
            same_number.exclude(kind=PhoneKind.LANDLINE)
        )
        rules.append(When(landline, then=Value(SuppressionReason.LANDLINE)))
        patients = patients.annotate(general_consent=_latest_kind(GENERAL_CONSENT_KINDS))
        rules.append(When(general_consent=ConsentKind.REVOKED, then=Value(SuppressionReason.OPTED_OUT)))
        if kind in AUTOMATED_KINDS:
            not_given = Q(general_consent__isnull=True) | ~Q(general_consent=ConsentKind.GIVEN)
            rules.append(When(not_given, then=Value(SuppressionReason.NO_CONSENT)))
        if purpose_needs_consent(purpose) and purpose in PURPOSE_CONSENT_KINDS:
            given, withdrawn = PURPOSE_CONSENT_KINDS[purpose]
            patients = patients.annotate(
                purpose_consent=_latest_kind((given, withdrawn, ConsentKind.REVOKED))
            )
            not_standing = Q(purpose_consent__isnull=True) | ~Q(purpose_consent=given)
            rules.append(When(not_standing, then=Value(SuppressionReason.NO_PURPOSE_CONSENT)))
    return patients.annotate(text_reason=Case(*rules, default=Value(""), output_field=CharField()))
