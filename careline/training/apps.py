from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "careline.training"
    label = "training"
    verbose_name = "Staff training"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from careline.training import tasks  # noqa: F401 - registers the reminder tasks by name
        from careline.training.services import onboarding_on_sign_in

        # New staff get the assignments marked "on first sign-in" the first time they sign in.
        user_logged_in.connect(onboarding_on_sign_in, dispatch_uid="training-onboarding")
