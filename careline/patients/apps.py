from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "careline.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        from careline.core.queries.audit import register_audit_name_lookup, register_patient_reference_lookup
        from careline.patients import tasks  # noqa: F401 - registers the tasks services queue by name
        from careline.patients.queries import caregiver_names, patient_ids_for_mrn

        register_patient_reference_lookup(patient_ids_for_mrn)
        register_audit_name_lookup("caregiver", caregiver_names)
