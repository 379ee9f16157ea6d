from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "careline.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from django.conf import settings

        from careline.messaging.replies import reply_owner_register
        from careline.messaging.subjects import register_subject_check
        from careline.scheduling import timeline  # noqa: F401 - registers appointments on the patient timeline
        from careline.scheduling.prompts import OWNER
        from careline.scheduling.services.replies import (
            scheduling_prompt_reply_handle,
            scheduling_reply_handle,
        )
        from careline.scheduling.services.visit_texts import SUBJECT_PREFIX, appointment_texts_stale

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
