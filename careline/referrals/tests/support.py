"""Shared set-up of the referral tests: the clock, providers of the directory, and the phone texting them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.simulator import simulator_inbound
from careline.patients.models import Patient
from careline.referrals.models import OutsideProvider, ProviderKind, Referral
from careline.referrals.services.referrals import referral_create

PAT_NUMBER = "+13125550111"
# Monday 2031-01-06 10:00 in Chicago (16:00 UTC): inside the texting window.
MONDAY_10_CHICAGO = datetime(2031, 1, 6, 16, 0, tzinfo=UTC)
REASON = "Low mood for months, PHQ-9 of 17"


def provider(kind: str = ProviderKind.PHYSIOTHERAPY, **fields: Any) -> OutsideProvider:
    """A provider of the directory of KIND (with a phone, an address and a website)."""
    values: dict[str, Any] = {
        "name": "Lakeside Physio" if kind == ProviderKind.PHYSIOTHERAPY else "Harbor Counseling",
        "kind": kind,
        "phone": "+13125550199",
        "address": "12 Lake St, Chicago",
        "website": "https://provider.example.test",
        "languages": ["en", "es"],
        "insurance_accepted": "Medicare\nBlue Cross",
        "updated_at": timezone.now(),
    }
    values.update(fields)
    return OutsideProvider.objects.create(**values)


def referred(patient: Patient, user: Any, to: OutsideProvider | None = None, **fields: Any) -> Referral:
    """PATIENT referred by USER to TO (a physiotherapist by default), consent given; texts by the simulator."""
    simulator_channel()
    return referral_create(
        patient=patient, provider=to or provider(), reason=REASON, consent_given=True, actor=Actor.staff(user),
        **fields,
    )  # fmt: skip


def text(body: str, number: str = PAT_NUMBER) -> Message:
    """The patient at NUMBER texts BODY, through the real inbound path."""
    return simulator_inbound(channel=simulator_channel(), from_number=number, body=body)


def sent_to(number: str = PAT_NUMBER) -> list[Message]:
    """The texts sent to NUMBER, oldest first."""
    return list(
        Message.objects.filter(direction=Message.Direction.OUTBOUND, to_address=number).order_by(
            "created_at", "id"
        )
    )
