from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "careline.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from careline.accounts import signals  # noqa: F401 - connects the sign-in audit receivers
