from collections.abc import Callable

from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "careline.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        from careline.core.queries.audit import register_audit_name_lookup, register_patient_reference_lookup
        from careline.patients import tasks  # noqa: F401 - registers the tasks services queue by name
        from careline.patients.queries import caregiver_names, patient_names
        from careline.patients.queries.search import patient_ids_for_reference

        register_patient_reference_lookup(patient_ids_for_reference)
        register_audit_name_lookup("caregiver", caregiver_names)
        register_audit_name_lookup("patient", patient_names)
        self._register_audit_objects()

    def _register_audit_objects(self) -> None:
        """How the audit trail names a patient's rows and where it links them (the patient's pages)."""
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        def on_patient(name: str) -> Callable[[int, int | None], str]:
            return lambda pk, patient: reverse(f"patients:{name}", args=[patient, pk]) if patient else ""

        register_audit_object(
            "patients.patient",
            noun="record",
            collection="patients",
            names="patient",
            url=lambda pk, _patient: reverse("patients:detail", args=[pk]),
        )
        register_audit_object("patients.carenote", noun="care note", url=on_patient("note_detail"))
        register_audit_object("patients.caregiver", noun="caregiver", url=on_patient("caregiver_edit"))
        register_audit_object("patients.patientalert", noun="pinned alert")
        register_audit_object("patients.noteamendment", noun="note amendment")
        register_audit_object("patients.patientphone", noun="phone number")
        register_audit_object("patients.contactpreference", noun="contact preference")
        register_audit_object("patients.consentevent", noun="text consent")
        register_audit_object(
            "patients.patientimport",
            noun="patient import",
            url=lambda pk, _patient: reverse("patients:import_status", args=[pk]),
        )
        register_audit_object("patients.import", noun="patient import")
