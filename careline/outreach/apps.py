from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "careline.outreach"
    label = "outreach"
    verbose_name = "Outreach"

    def ready(self) -> None:
        from django.conf import settings

        from careline.messaging.replies import reply_owner_register
        from careline.outreach import tasks  # noqa: F401 - registers the sweeps' task names
        from careline.outreach.services.replies import OWNER, outreach_prompt_reply_handle

        # "Reply CALL to be called back" reaches outreach through messaging's reply router (its prompts only).
        reply_owner_register(
            code=OWNER,
            prompt_handler=outreach_prompt_reply_handle,
            words={"CARELINE_REPLY_CALLBACK": settings.CARELINE_REPLY_CALLBACK},
        )
        self._register_audit_objects()

    def _register_audit_objects(self) -> None:
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object(
            "outreach.audience",
            noun="recall audience",
            collection="recall audiences",
            url=lambda pk, _patient: reverse("outreach:audience", args=[pk]),
        )
        register_audit_object(
            "outreach.campaign",
            noun="recall campaign",
            url=lambda pk, _patient: reverse("outreach:campaign", args=[pk]),
        )
        register_audit_object("outreach.birthdaysetting", noun="birthday messages setting")
