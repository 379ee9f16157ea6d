from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "careline.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from careline.messaging.replies import register_reply_handler
        from careline.messaging.subjects import register_subject_check
        from careline.scheduling import timeline  # noqa: F401 - registers appointments on the patient timeline
        from careline.scheduling.services.replies import scheduling_reply_handle
        from careline.scheduling.services.visit_texts import SUBJECT_PREFIX, appointment_texts_stale

        # Patients' text replies (C/R/X, slot choices, waitlist words) reach scheduling through this hook.
        register_reply_handler(scheduling_reply_handle)
        # Texts about a visit are re-checked just before they go (a visit moved while one waited).
        register_subject_check(SUBJECT_PREFIX, appointment_texts_stale)
