from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "careline.oncall"
    label = "oncall"
    verbose_name = "On call"

    def ready(self) -> None:
        from careline.core.events import Phase, subscribe
        from careline.messaging.events import UrgentTextAfterHours
        from careline.messaging.urgent import urgent_responder_register
        from careline.oncall import tasks  # noqa: F401 - registers the task names
        from careline.oncall.queries import someone_on_call
        from careline.oncall.services.urgent import urgent_text_page

        # An urgent text after hours pages the clinician on call (rows in the text's own transaction; the
        # texts and emails leave after commit), and the patient's answer says so when someone is on call.
        subscribe(UrgentTextAfterHours, urgent_text_page, phase=Phase.IN_TRANSACTION)
        urgent_responder_register(code="oncall", covers=someone_on_call)
        self._register_audit_objects()

    def _register_audit_objects(self) -> None:
        """How the audit trail names the rota's shifts and the pages, and where it links them."""
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object(
            "oncall.oncallshift",
            noun="on-call shift",
            url=lambda pk, patient: reverse("oncall:shift_edit", args=[pk]),
        )
        register_audit_object(
            "oncall.page", noun="on-call page", url=lambda pk, patient: reverse("oncall:page", args=[pk])
        )
