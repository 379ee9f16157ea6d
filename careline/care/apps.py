from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "careline.care"
    label = "care"
    verbose_name = "Care after discharge"

    def ready(self) -> None:
        from careline.care import tasks  # noqa: F401 - registers the sweeps' tasks by name
        from careline.care.registration import care_register

        care_register()
