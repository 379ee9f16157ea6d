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
