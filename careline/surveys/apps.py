from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "careline.surveys"
    label = "surveys"
    verbose_name = "Post-visit surveys and service analytics"

    def ready(self) -> None:
        from careline.surveys import tasks  # noqa: F401 - registers the sweep's task by name
        from careline.surveys.registration import surveys_register

        surveys_register()
