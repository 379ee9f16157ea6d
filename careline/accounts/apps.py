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
        self._register_audit_objects()

    def _register_audit_objects(self) -> None:
        """How the audit trail names staff accounts and API tokens, and where it links them."""
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object(
            "accounts.user",
            noun="staff account",
            names="user",
            url=lambda pk, _patient: reverse("accounts:staff_edit", args=[pk]),
        )
        register_audit_object(
            "accounts.apitoken",
            noun="API token",
            names="api_token",
            url=lambda _pk, _patient: reverse("accounts:api_tokens"),
        )
