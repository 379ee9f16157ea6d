from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "careline.care"
    label = "care"
    verbose_name = "Care after discharge"

    def ready(self) -> None:
        from careline.care import (  # noqa: F401 - register the sweeps' tasks by name, calls on the timeline
            tasks,
            timeline,
        )
        from careline.care.registration import care_register

        care_register()
        self._page_on_call()

    def _page_on_call(self) -> None:
        """Critical alerts after hours (in the reading's transaction, so the patient's answer can say the
        clinician on call was told) and escalated alerts (after commit) reach the clinician on call."""
        from careline.care.events import CareAlertEscalated, CareAlertOpened
        from careline.care.oncall_paging import oncall_on_alert_escalated, oncall_on_alert_opened
        from careline.core.events import Phase, subscribe

        subscribe(CareAlertOpened, oncall_on_alert_opened, phase=Phase.IN_TRANSACTION)
        subscribe(CareAlertEscalated, oncall_on_alert_escalated, phase=Phase.AFTER_COMMIT)
