from collections.abc import Callable

from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "careline.records"
    label = "records"
    verbose_name = "Records"

    def ready(self) -> None:
        from careline.records import tasks  # noqa: F401 - registers the release sweep's task by name
        from careline.records.patient_section import records_section_register

        # The Records section of the staff patient page (counts and a link, for those who may read it).
        records_section_register()
        self._register_audit_objects()

    def _register_audit_objects(self) -> None:
        """How the audit trail names the record's rows and where it links them."""
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object
        from careline.records.kinds import ENTRY_KINDS

        def on_patient(route: str) -> Callable[[int, int | None], str]:
            return lambda pk, patient: reverse(route, args=[patient, pk]) if patient else ""

        for kind in ENTRY_KINDS.values():
            register_audit_object(kind.model._meta.label_lower, noun=kind.noun, url=on_patient(kind.url_name))
        register_audit_object(
            "records.document",
            noun="document",
            url=on_patient("records:document"),
        )
        register_audit_object(
            "records.labresult",
            noun="lab result",
            url=on_patient("records:result"),
        )
        register_audit_object("records.resultreleaserule", noun="result release rule")
