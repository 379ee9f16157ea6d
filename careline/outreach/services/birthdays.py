"""Birthday messages: per location on or off, a PHI-free text, on the patient's birthday in their zone.

The sweep (`outreach.birthdays_sweep`, beat every 10 minutes) looks at the patients whose birthday is a
local date somewhere on earth now, and greets those whose own local date it is, from midnight until the
location's texting window closes: a greeting made before the window opens is held by messaging until it
opens (that day), one never made by closing time is not sent late. A patient born on 29 February is greeted
on 28 February in other years. Each birthday is a `BirthdayGreeting` row, unique per patient and year, so
a greeting goes at most once a year whatever the sweeps do. Birthdays are marketing texts: they need that
consent; deceased and confidential patients are never greeted.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.languages import say
from careline.locations.models import Location
from careline.messaging.models import MessageKind
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.outbound.policy import patient_text_reason, texting_window
from careline.messaging.template_values import patient_values
from careline.messaging.templating import TemplateKind, template_render, template_validate
from careline.outreach.models import BirthdayGreeting, BirthdaySetting
from careline.outreach.texts import BIRTHDAY_GREETING
from careline.patients.models import Patient, PatientStatus, Purpose


def birthday_in(born: date, year: int) -> date:
    """The day PATIENT born on BORN celebrates in YEAR: 29 February is 28 February in other years."""
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return born.replace(year=year)


def birthday_setting_save(
    *, location: Location, enabled: bool, template: str, translations: dict[str, str], actor: Actor
) -> BirthdaySetting:
    """Turn a location's birthday messages on or off and set their text (TemplateProblem when not allowed)."""
    for text in (template, *translations.values()):
        if text:
            template_validate(text, kind=TemplateKind.ANNOUNCEMENT)
    with transaction.atomic():
        setting, _ = BirthdaySetting.objects.get_or_create(location=location)
        setting.enabled = enabled
        setting.template = template.strip()
        setting.translations = {code: text.strip() for code, text in translations.items() if text.strip()}
        setting.updated_by = actor.staff_user
        setting.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=setting,
            detail=f"birthday messages {'on' if enabled else 'off'} at location {location.pk}",
        )
    return setting


def birthday_text(setting: BirthdaySetting, patient: Patient) -> str:
    """The greeting PATIENT gets: the location's text in their language, else Careline's, filled safely."""
    template = setting.template_for(patient.language) or say(BIRTHDAY_GREETING, patient.language)
    values = patient_values(patient=patient, location=setting.location)
    return template_render(template, values, kind=TemplateKind.ANNOUNCEMENT)


def _candidate_days(now: datetime) -> Q:
    """Dates of birth whose birthday is a local date somewhere on earth at NOW (UTC-12 to UTC+14)."""
    condition = Q(pk__in=[])
    for hours in (-12, 0, 14):
        day = (now + timedelta(hours=hours)).date()
        condition |= Q(date_of_birth__month=day.month, date_of_birth__day=day.day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            condition |= Q(date_of_birth__month=2, date_of_birth__day=29)
    return condition


def birthdays_send(*, now: datetime | None = None) -> int:
    """Greet every patient whose birthday it is now in their zone, at locations that send them; how many."""
    now = now or timezone.now()
    greeted = 0
    settings_on = BirthdaySetting.objects.filter(enabled=True).select_related(
        "location", "location__messaging_policy"
    )
    for setting in settings_on:
        location = setting.location
        window = texting_window(location)
        patients = (
            Patient.objects.filter(
                _candidate_days(now),
                primary_location=location,
                status=PatientStatus.ACTIVE,
                confidential_communications=False,
            )
            .select_related("primary_location")
            .prefetch_related("phones")
            .order_by("pk")
        )
        for patient in patients:
            local = now.astimezone(patient.zone)
            if birthday_in(patient.date_of_birth, local.year) != local.date():
                continue
            if local.time().replace(tzinfo=None) >= window[1]:
                continue  # the day's window has closed: no greeting after hours, nor a day late
            greeted += _greet(setting, patient, year=local.year, now=now)
    return greeted


def _greet(setting: BirthdaySetting, patient: Patient, *, year: int, now: datetime) -> int:
    """One greeting for PATIENT's birthday of YEAR, unless one was made already; 1 when sent or skipped now."""
    try:
        with transaction.atomic():
            greeting = BirthdayGreeting.objects.create(patient=patient, year=year, created_at=now)
            reason = patient_text_reason(patient, purpose=Purpose.MARKETING)
            if reason:
                # Not sent: recorded with why, and no text row (nothing the inbox needs to show).
                BirthdayGreeting.objects.filter(pk=greeting.pk).update(skipped_reason=reason)
                return 1
            try:
                message = message_send(
                    body=birthday_text(setting, patient),
                    patient=patient,
                    kind=MessageKind.AUTOMATED,
                    purpose=Purpose.MARKETING,
                    idempotency_key=f"birthday:{patient.pk}:{year}",
                )
            except MessageRefused:
                BirthdayGreeting.objects.filter(pk=greeting.pk).update(skipped_reason="no_channel")
                return 1
            BirthdayGreeting.objects.filter(pk=greeting.pk).update(
                message=message, skipped_reason=message.suppression_reason
            )
    except IntegrityError:
        return 0  # this birthday was greeted (or skipped) already: once a year
    return 1
