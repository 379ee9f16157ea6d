from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "careline.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from careline.billing.sections import balance_sections_register

        # The "Balance" card on the patient page and in the inbox's patient panel.
        balance_sections_register()
        self._register_audit_objects()

    def _register_audit_objects(self) -> None:
        """How the audit trail names billing's rows; each links to its patient's ledger."""
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        def ledger(_pk: int, patient_id: int | None) -> str:
            return reverse("billing:ledger", args=[patient_id]) if patient_id else ""

        for object_type, noun in (
            ("billing.charge", "charge"),
            ("billing.claim", "claim"),
            ("billing.payment", "payment"),
            ("billing.refund", "refund"),
            ("billing.balanceadjustment", "balance adjustment"),
        ):
            register_audit_object(object_type, noun=noun, url=ledger)
        # An import through the API (its records are audited one by one, each naming its patient).
        register_audit_object("billing.import", noun="billing import")
        register_audit_object(
            "billing.billingimport",
            noun="billing import",
            url=lambda pk, _patient_id: reverse("billing:import_preview", args=[pk]),
        )
