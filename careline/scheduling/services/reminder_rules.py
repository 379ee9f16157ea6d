"""Reminder rule administration: save and deactivate, with the change in the audit trail.

A rule applies to upcoming visits, not only to visits booked afterwards: adding a rule, or changing when,
how or for which visits it reminds, starts a background re-plan (reminder_replans.py) whose progress and
outcome the rules page shows. Turning a rule off withdraws its pending reminders at once (one statement)
and records that the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time

from django.db import transaction

from careline.core.actor import Actor
from careline.core.audit import audit_record
from careline.core.languages import language_name, translations_kept
from careline.core.models import AuditAction
from careline.locations.models import Location
from careline.messaging.templating import TemplateKind, TemplateProblem, template_validate
from careline.scheduling.models import AppointmentType, Reminder, ReminderReplan, ReminderRule, ReminderState
from careline.scheduling.services.reminder_replans import (
    plan_signature,
    reminder_replan_record_withdrawal,
    reminder_replan_start,
)


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
    translations: Mapping[str, str],
    is_active: bool,
    actor: Actor,
) -> ReminderRule:
    """Create or change a rule (templates validated against the allow-list; TemplateProblem otherwise).

    Upcoming visits are re-planned in the background when the timing, channel, scope or use changed.
    """
    template_validate(template_en, kind=TemplateKind.REMINDER)
    kept = translations_kept(translations)
    for language, text in kept.items():
        try:
            template_validate(text, kind=TemplateKind.REMINDER)
        except TemplateProblem as problem:
            raise TemplateProblem(f"Text in {language_name(language)}: {problem}") from None
    with transaction.atomic():
        # Read from the database: a form may already have set the new values on RULE.
        stored = ReminderRule.objects.filter(pk=rule.pk).first() if rule is not None and rule.pk else None
        before = plan_signature(stored) if stored is not None else ()
        was_active = stored is not None and stored.is_active
        rule = rule or ReminderRule()
        rule.name = name
        rule.days_before, rule.at_local_time, rule.minutes_before = days_before, at_local_time, minutes_before
        rule.channel = channel
        rule.template_en, rule.translations = template_en, kept
        rule.is_active = is_active
        created = rule.pk is None
        rule.save()
        rule.appointment_types.set(list(appointment_types))
        rule.locations.set(list(locations))
        if not is_active:
            if was_active:
                _withdraw_pending_recorded(rule, actor=actor)
            else:
                _withdraw_pending(rule)  # nothing should be pending; a row planned in a race goes too
        elif created or plan_signature(rule) != before:
            reason = ReminderReplan.Reason.ADDED if created else ReminderReplan.Reason.CHANGED
            reminder_replan_start(rule=rule, reason=reason, actor=actor)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=rule,
            detail=f"reminder rule {'created' if created else 'changed'}",
        )
    return rule


def _withdraw_pending(rule: ReminderRule) -> int:
    return Reminder.objects.filter(rule=rule, state=ReminderState.PENDING).update(
        state=ReminderState.WITHDRAWN, skip_reason="The rule was turned off"
    )


def _withdraw_pending_recorded(rule: ReminderRule, *, actor: Actor) -> int:
    """Withdraw RULE's pending reminders and record it for the rules page; returns how many."""
    pending = Reminder.objects.filter(rule=rule, state=ReminderState.PENDING)
    visits = pending.values("appointment_id").distinct().count()
    withdrawn = _withdraw_pending(rule)
    reminder_replan_record_withdrawal(rule=rule, withdrawn=withdrawn, visits=visits, actor=actor)
    return withdrawn


def reminder_rule_deactivate(*, rule: ReminderRule, actor: Actor) -> int:
    """Stop using RULE; its pending reminders are withdrawn (returns how many)."""
    with transaction.atomic():
        was_active = ReminderRule.objects.filter(pk=rule.pk, is_active=True).update(is_active=False)
        withdrawn = _withdraw_pending_recorded(rule, actor=actor) if was_active else _withdraw_pending(rule)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=rule,
            detail="reminder rule turned off",
        )
    return withdrawn
