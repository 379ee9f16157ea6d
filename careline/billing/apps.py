from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "careline.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from careline.billing.sections import balance_sections_register

        # The "Balance" card on the patient page and in the inbox's patient panel.
        balance_sections_register()
