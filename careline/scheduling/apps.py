from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "careline.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from careline.messaging.replies import register_reply_handler
        from careline.messaging.subjects import register_subject_check
        from careline.scheduling import (
            tasks,  # noqa: F401 - registers the tasks services queue by name
            timeline,  # noqa: F401 - registers appointments on the patient timeline
        )
        from careline.scheduling.services.replies import scheduling_reply_handle
        from careline.scheduling.services.visit_texts import SUBJECT_PREFIX, appointment_texts_stale

        # Patients' text replies (C/R/X, slot choices, waitlist words) reach scheduling through this hook.
        register_reply_handler(scheduling_reply_handle)
        # Texts about a visit are re-checked just before they go (a visit moved while one waited).
        register_subject_check(SUBJECT_PREFIX, appointment_texts_stale)
        self._subscribe_to_appointment_events()

    def _subscribe_to_appointment_events(self) -> None:
        """Who reacts to an appointment change, in the order they run (see docs/architecture.md)."""
        from careline.core.events import Phase, subscribe
        from careline.scheduling.events import AppointmentBooked, AppointmentCancelled, AppointmentMoved
        from careline.scheduling.services import reminders, waitlist

        inside, after = Phase.IN_TRANSACTION, Phase.AFTER_COMMIT
        # Reminder rows change with the visit, in its transaction.
        subscribe(AppointmentBooked, reminders.reminders_on_booked, phase=inside)
        subscribe(AppointmentMoved, reminders.reminders_on_moved, phase=inside)
        subscribe(AppointmentCancelled, reminders.reminders_on_cancelled, phase=inside)
        # Texts only once the change is committed: the patient's notice first, then the waitlist offers.
        subscribe(AppointmentBooked, reminders.notices_on_booked, phase=after)
        subscribe(AppointmentMoved, reminders.notices_on_moved, phase=after)
        subscribe(AppointmentCancelled, reminders.notices_on_cancelled, phase=after)
        subscribe(AppointmentMoved, waitlist.waitlist_on_slot_freed, phase=after)
        subscribe(AppointmentCancelled, waitlist.waitlist_on_slot_freed, phase=after)
