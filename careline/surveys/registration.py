"""What surveys register with the apps below it at start-up (from SurveysConfig.ready)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.locations.models import Location

# The reports page's section of surveys (the Service report shows the other apps' sections, not this one).
REPORT_SECTION = "surveys"


def survey_report_context(user: Any, locations: Sequence[Location]) -> dict[str, Any] | None:
    """The reports page's survey section: responses, response rate and average score per scale (one query)."""
    from careline.surveys.queries.results import survey_summary

    if not has_perm(user, Perm.REPORT_VIEW):
        return None
    return {"summary": survey_summary(location_ids=[loc.pk for loc in locations])}


def surveys_register() -> None:
    """The reply router's owner, the appointment listener, the reports page's section, the audit names."""
    from careline.core.events import Phase, subscribe
    from careline.core.queries.audit_lines import register_audit_object
    from careline.messaging.replies import reply_owner_register
    from careline.scheduling.events import AppointmentStatusChanged
    from careline.scheduling.report_sections import report_section_register
    from careline.surveys.services.answers import survey_free_text_handle, survey_prompt_reply_handle
    from careline.surveys.services.sending import OWNER, surveys_on_status_changed

    # Free text after scheduling (10) and care (50): only a score while a survey waits in that conversation.
    reply_owner_register(
        code=OWNER,
        prompt_handler=survey_prompt_reply_handle,
        free_text_handler=survey_free_text_handle,
        free_text_order=60,
    )
    subscribe(AppointmentStatusChanged, surveys_on_status_changed, phase=Phase.IN_TRANSACTION)
    report_section_register(
        code=REPORT_SECTION,
        title="Post-visit surveys",
        template="surveys/_report_section.html",
        context=survey_report_context,
        order=20,
    )
    register_audit_object("surveys.surveysettings", noun="survey settings")
    register_audit_object("report.surveys", noun="survey results")
    register_audit_object("report.service", noun="service report")
