from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "careline.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from careline.accounts import signals  # noqa: F401 - connects the sign-in audit receivers
        from careline.accounts.queries import api_token_names, staff_names
        from careline.core.queries.audit import register_audit_name_lookup

        register_audit_name_lookup("api_token", api_token_names)
        register_audit_name_lookup("user", staff_names)
