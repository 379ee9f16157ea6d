from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "careline.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from careline.billing.sections import balance_sections_register

        # The "Balance" card on the patient page and in the inbox's patient panel.
        balance_sections_register()
        self._subscribe()
        self._register_audit_objects()

    def _subscribe(self) -> None:
        from careline.billing.events import PaymentRecorded
        from careline.billing.services.receipts import receipt_on_payment_recorded
        from careline.core.events import Phase, subscribe

        # A receipt to the payer after every payment, once it is committed.
        subscribe(PaymentRecorded, receipt_on_payment_recorded, phase=Phase.AFTER_COMMIT)

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
