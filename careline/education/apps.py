from django.apps import AppConfig


class EducationConfig(AppConfig):
    name = "careline.education"
    label = "education"
    verbose_name = "Caregiver education"

    def ready(self) -> None:
        from careline.education import tasks  # noqa: F401 - registers the program sweep's task by name
        from careline.education.registration import education_register

        education_register()
