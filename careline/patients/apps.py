from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "careline.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        from careline.patients import tasks  # noqa: F401 - registers the tasks services queue by name
