"""Reminder rule administration: save and deactivate, with the change in the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from careline.core.audit import audit_record
from careline.core.models import AuditAction
from careline.locations.models import Location
from careline.messaging.templating import TemplateKind, TemplateProblem, template_validate
from careline.scheduling.models import AppointmentType, Reminder, ReminderRule, ReminderState


def reminder_rule_save(
    *,
    rule: ReminderRule | None,
    name: str,
    days_before: int | None,
    at_local_time: time | None,
    minutes_before: int | None,
    channel: str,
    appointment_types: Iterable[AppointmentType],
    locations: Iterable[Location],
    template_en: str,
    template_es: str,
    is_active: bool,
    actor: Any,
    request: HttpRequest | None = None,
) -> ReminderRule:
    """Create or change a rule (templates validated against the allow-list; TemplateProblem otherwise)."""
    template_validate(template_en, kind=TemplateKind.REMINDER)
    if template_es:
        try:
            template_validate(template_es, kind=TemplateKind.REMINDER)
        except TemplateProblem as problem:
            raise TemplateProblem(f"Text in Spanish: {problem}") from None
    with transaction.atomic():
        rule = rule or ReminderRule()
        rule.name = name
        rule.days_before, rule.at_local_time, rule.minutes_before = days_before, at_local_time, minutes_before
        rule.channel = channel
        rule.template_en, rule.template_es = template_en, template_es
        rule.is_active = is_active
        created = rule.pk is None
        rule.save()
        rule.appointment_types.set(list(appointment_types))
        rule.locations.set(list(locations))
        if not is_active:
            _withdraw_pending(rule)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=rule,
            detail=f"reminder rule {'created' if created else 'changed'}",
            request=request,
        )
    return rule


def _withdraw_pending(rule: ReminderRule) -> int:
    return Reminder.objects.filter(rule=rule, state=ReminderState.PENDING).update(
        state=ReminderState.WITHDRAWN, skip_reason="The rule was turned off"
    )


def reminder_rule_deactivate(*, rule: ReminderRule, actor: Any, request: HttpRequest | None = None) -> int:
    """Stop using RULE; its pending reminders are withdrawn (returns how many)."""
    with transaction.atomic():
        ReminderRule.objects.filter(pk=rule.pk).update(is_active=False)
        withdrawn = _withdraw_pending(rule)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=rule,
            detail="reminder rule turned off",
            request=request,
        )
    return withdrawn
