from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "careline.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from django.conf import settings

        from careline.core.metrics import register_metrics_source
        from careline.scheduling.metrics import scheduling_metrics

        register_metrics_source("scheduling", scheduling_metrics)

        from careline.messaging.replies import reply_owner_register
        from careline.messaging.subjects import register_subject_check
        from careline.scheduling import (
            tasks,  # noqa: F401 - registers the tasks services queue by name
            timeline,  # noqa: F401 - registers appointments on the patient timeline
        )
        from careline.scheduling.prompts import OWNER
        from careline.scheduling.services.replies import (
            scheduling_prompt_reply_handle,
            scheduling_reply_handle,
        )
        from careline.scheduling.services.visit_texts import appointment_texts_stale
        from careline.scheduling.subjects import SUBJECT_PREFIX

        # Patients' text replies (C/R/X, slot choices, waitlist words) reach scheduling through messaging's
        # reply router: replies to its prompts, and as the first free-text handler (C, R and X act on an
        # upcoming visit until it starts, after its question was answered or expired).
        reply_owner_register(
            code=OWNER,
            prompt_handler=scheduling_prompt_reply_handle,
            free_text_handler=scheduling_reply_handle,
            free_text_order=10,
            words={
                name: getattr(settings, name)
                for name in (
                    "CARELINE_REPLY_CONFIRM",
                    "CARELINE_REPLY_RESCHEDULE",
                    "CARELINE_REPLY_CANCEL",
                    "CARELINE_REPLY_WAITLIST",
                )
            },
        )
        # Texts about a visit are re-checked just before they go (a visit moved while one waited).
        register_subject_check(SUBJECT_PREFIX, appointment_texts_stale)
        # The next and last visits beside an open conversation in the inbox.
        from careline.scheduling.panel import visits_panel_register

        visits_panel_register()
        # "Visit requests 2": open requests from the portal the person may book.
        from careline.core.nav import register_nav_badge
        from careline.scheduling.queries.visit_requests import visit_requests_nav_badge

        register_nav_badge("visit_requests", visit_requests_nav_badge)
        self._subscribe_to_appointment_events()
        self._register_audit_objects()

    def _register_audit_objects(self) -> None:
        """How the audit trail names scheduling's rows and where it links them."""
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object(
            "scheduling.appointment",
            noun="appointment",
            url=lambda pk, _patient: reverse("scheduling:appointment", args=[pk]),
        )
        register_audit_object("scheduling.calendar", noun="calendar", collection="the calendar")
        register_audit_object("scheduling.slot", noun="free slot", collection="free slots")
        register_audit_object("scheduling.visitrequest", noun="visit request", collection="visit requests")
        register_audit_object("scheduling.waitlistentry", noun="waitlist entry", collection="the waitlist")
        register_audit_object("scheduling.appointmenttype", noun="appointment type")
        register_audit_object("scheduling.workinghours", noun="working hours", collection="working hours")
        register_audit_object("scheduling.timeoff", noun="time off", collection="time off")
        register_audit_object("scheduling.reminderrule", noun="reminder rule")
        register_audit_object("report.reminders", noun="reminders report", collection="the reminders report")

    def _subscribe_to_appointment_events(self) -> None:
        """Who reacts to an appointment change, in the order they run (see docs/architecture.md)."""
        from careline.core.events import Phase, subscribe
        from careline.patients.events import PatientUpdated
        from careline.scheduling.events import AppointmentBooked, AppointmentCancelled, AppointmentMoved
        from careline.scheduling.services import reminders, waitlist

        inside, after = Phase.IN_TRANSACTION, Phase.AFTER_COMMIT
        # Reminder rows change with the visit (and the patient's reminder channel), in its transaction.
        subscribe(AppointmentBooked, reminders.reminders_on_booked, phase=inside)
        subscribe(AppointmentMoved, reminders.reminders_on_moved, phase=inside)
        subscribe(AppointmentCancelled, reminders.reminders_on_cancelled, phase=inside)
        subscribe(PatientUpdated, reminders.reminders_on_patient_updated, phase=inside)
        # Texts only once the change is committed: the patient's notice first, then the waitlist offers.
        subscribe(AppointmentBooked, reminders.notices_on_booked, phase=after)
        subscribe(AppointmentMoved, reminders.notices_on_moved, phase=after)
        subscribe(AppointmentCancelled, reminders.notices_on_cancelled, phase=after)
        subscribe(AppointmentMoved, waitlist.waitlist_on_slot_freed, phase=after)
        subscribe(AppointmentCancelled, waitlist.waitlist_on_slot_freed, phase=after)
