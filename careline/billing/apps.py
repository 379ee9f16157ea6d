from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "careline.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from careline.billing import tasks  # noqa: F401 - registers the task names
        from careline.billing.sections import balance_sections_register
        from careline.billing.services.statements import SUBJECT_PREFIX
        from careline.billing.statement_email import statement_email_parts, statement_messages_stale
        from careline.billing.timeline import statement_timeline_entries
        from careline.messaging.email_parts import register_email_parts
        from careline.messaging.subjects import register_subject_check
        from careline.patients.timeline import register_timeline_source

        # The "Balance" card on the patient page and in the inbox's patient panel.
        balance_sections_register()
        # A statement's email carries its PDF; a voided or superseded statement's texts never go.
        register_email_parts(SUBJECT_PREFIX, statement_email_parts)
        register_subject_check(SUBJECT_PREFIX, statement_messages_stale)
        register_timeline_source(statement_timeline_entries)
        self._subscribe()
        self._register_audit_objects()
        self._subscribe_collections()

    def _subscribe_collections(self) -> None:
        """The collections sequence and plans follow statements and payments; texts re-checked before sending."""
        from careline.billing.events import PaymentRecorded, StatementIssued
        from careline.billing.services import collections, plans
        from careline.core.events import Phase, subscribe
        from careline.messaging.subjects import register_subject_check
        from careline.patients.events import ConsentChanged

        inside = Phase.IN_TRANSACTION
        subscribe(
            StatementIssued,
            collections.followups_on_statement_issued,
            phase=inside,
            many=collections.followups_on_statements_issued,
        )
        subscribe(PaymentRecorded, collections.followups_on_payment, phase=inside)
        subscribe(PaymentRecorded, plans.plans_on_payment, phase=inside)
        subscribe(ConsentChanged, collections.followups_on_consent_changed, phase=Phase.AFTER_COMMIT)
        register_subject_check(collections.SUBJECT_PREFIX, collections.followup_texts_stale)
        register_subject_check(plans.SUBJECT_PREFIX, plans.instalment_texts_stale)
        self._register_replies()

    def _register_replies(self) -> None:
        """Replies to billing texts reach billing through messaging's reply router."""
        from django.conf import settings

        from careline.billing import tasks  # noqa: F401 - registers the sweeps' task names
        from careline.billing.services.replies import OWNER, billing_prompt_reply_handle
        from careline.messaging.replies import reply_owner_register

        reply_owner_register(
            code=OWNER,
            prompt_handler=billing_prompt_reply_handle,
            words={"CARELINE_REPLY_PLAN": settings.CARELINE_REPLY_PLAN},
        )

    def _subscribe(self) -> None:
        from careline.billing.events import PaymentRecorded
        from careline.billing.services.receipts import receipt_on_payment_recorded
        from careline.core.events import Phase, subscribe

        # A receipt to the payer after every payment, once it is committed.
        subscribe(PaymentRecorded, receipt_on_payment_recorded, phase=Phase.AFTER_COMMIT)

    def _register_audit_objects(self) -> None:
        """How the audit trail names billing's rows; each links to its patient's ledger (a statement: its page)."""
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
            ("billing.followup", "collections follow-up"),
            ("billing.dispute", "dispute"),
            ("billing.paymentplan", "payment plan"),
            ("billing.planinstalment", "plan instalment"),
            ("billing.billingtask", "billing task"),
        ):
            register_audit_object(object_type, noun=noun, url=ledger)
        # An import through the API (its records are audited one by one, each naming its patient).
        register_audit_object("billing.import", noun="billing import")
        register_audit_object(
            "billing.billingimport",
            noun="billing import",
            url=lambda pk, _patient_id: reverse("billing:import_preview", args=[pk]),
        )
        register_audit_object(
            "billing.statement",
            noun="statement",
            url=lambda pk, _patient: reverse("billing:statement", args=[pk]),
        )
