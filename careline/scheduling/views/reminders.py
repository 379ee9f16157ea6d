"""Reminder rule administration (Perm.SCHEDULE_MANAGE) and the public add-to-calendar file."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.core.actor import Actor
from careline.core.permissions import Perm, require_perm
from careline.messaging.templating import TemplateProblem
from careline.scheduling.forms.reminders import ReminderRuleForm
from careline.scheduling.ics import ics_appointment_for_token, ics_calendar
from careline.scheduling.models import ReminderReplan, ReminderRule
from careline.scheduling.queries.reminders import reminder_replans_recent, reminder_rules_listed
from careline.scheduling.services.reminder_rules import reminder_rule_deactivate, reminder_rule_save


def _context(**extra: Any) -> dict[str, Any]:
    return {"nav": "admin", "admin_tab": "reminder_rules", **extra}


@require_perm(Perm.SCHEDULE_MANAGE)
@require_GET
def reminder_rule_list(request: HttpRequest) -> HttpResponse:
    """Every reminder rule: timing, channel, types and locations."""
    return render(
        request,
        "scheduling/reminders/rule_list.html",
        _context(rules=list(reminder_rules_listed()), replans=reminder_replans_recent()),
    )


@require_perm(Perm.SCHEDULE_MANAGE)
@require_GET
def reminder_replan_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress and outcome of one re-plan (the rules page asks for it until it is done)."""
    replan = get_object_or_404(ReminderReplan.objects.select_related("rule"), pk=pk)
    return render(request, "scheduling/reminders/_replan_progress.html", {"replan": replan})


def _rule_page(request: HttpRequest, rule: ReminderRule | None) -> HttpResponse:
    form = ReminderRuleForm(request.POST or None, instance=rule)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = reminder_rule_save(
                    rule=rule,
                    name=data["name"],
                    days_before=data["days_before"],
                    at_local_time=data["at_local_time"],
                    minutes_before=data["minutes_before"],
                    channel=data["channel"],
                    appointment_types=data["appointment_types"],
                    locations=data["locations"],
                    template_en=data["template_en"],
                    translations=form.translations(),
                    is_active=data["is_active"],
                    actor=Actor.from_request(request),
                )
            except TemplateProblem as problem:
                form.add_error("template_en", str(problem))
            else:
                messages.success(request, f"The reminder rule “{saved.name}” is saved.")
                return HttpResponseRedirect(resolve_url("scheduling:reminder_rule_list"))
        status = 400
    return render(
        request, "scheduling/reminders/rule_form.html", _context(form=form, rule=rule), status=status
    )


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def reminder_rule_create(request: HttpRequest) -> HttpResponse:
    """A new reminder rule."""
    return _rule_page(request, None)


@require_perm(Perm.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def reminder_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a reminder rule (upcoming visits' reminders are re-planned in the background)."""
    return _rule_page(request, get_object_or_404(ReminderRule, pk=pk))


@require_perm(Perm.SCHEDULE_MANAGE)
@require_POST
def reminder_rule_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop using a rule; its pending reminders are withdrawn."""
    rule = get_object_or_404(ReminderRule, pk=pk)
    withdrawn = reminder_rule_deactivate(rule=rule, actor=Actor.from_request(request))
    messages.success(
        request, f"The reminder rule “{rule.name}” is turned off ({withdrawn} pending withdrawn)."
    )
    return HttpResponseRedirect(resolve_url("scheduling:reminder_rule_list"))


@require_GET
def appointment_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The add-to-calendar file of a visit: no sign-in, but the link is signed and expires."""
    appointment = ics_appointment_for_token(token)
    if appointment is None:
        raise Http404("This calendar link is not valid or has expired.")
    response = HttpResponse(ics_calendar(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="visit.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
