from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "careline.referrals"
    label = "referrals"
    verbose_name = "Referrals to outside providers"

    def ready(self) -> None:
        from careline.referrals import tasks  # noqa: F401 - registers the check-in sweep's task by name
        from careline.referrals.registration import referrals_register

        referrals_register()
