from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "careline.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from careline.messaging import (
            tasks,  # noqa: F401 - registers the tasks services queue by name
            timeline,  # noqa: F401 - registers messages on the patient timeline
        )

        self._connect_environment_channel()
        from careline.core.health import register_health_check
        from careline.messaging.services.channels import channels_health

        register_health_check("channels", channels_health)
        from careline.core.metrics import register_metrics_source
        from careline.messaging.metrics import messaging_metrics

        register_metrics_source("messaging", messaging_metrics)
        self._register_audit_objects()
        self._follow_changes_the_inbox_shows()
        from careline.core.nav import register_nav_badge
        from careline.messaging.queries.inbox_list import inbox_nav_badge

        register_nav_badge("inbox", inbox_nav_badge)

    def _follow_changes_the_inbox_shows(self) -> None:
        """The inbox list shows who opted out: a consent change moves its conversations' updated_at."""
        from careline.core.events import Phase, subscribe
        from careline.messaging.services.conversations import (
            conversations_on_consent_changed,
            conversations_on_patient_updated,
        )
        from careline.patients.events import ConsentChanged, PatientUpdated

        subscribe(ConsentChanged, conversations_on_consent_changed, phase=Phase.IN_TRANSACTION)
        subscribe(PatientUpdated, conversations_on_patient_updated, phase=Phase.IN_TRANSACTION)

    def _register_audit_objects(self) -> None:
        """How the audit trail names messaging's rows and where it links them."""
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object(
            "messaging.conversation",
            noun="conversation",
            collection="the inbox",
            url=lambda pk, _patient: reverse("messaging:conversation", args=[pk]),
        )
        register_audit_object("messaging.message", noun="text message")
        register_audit_object("messaging.internalnote", noun="internal note")
        register_audit_object("messaging.channel", noun="channel")
        register_audit_object("messaging.savedreply", noun="saved reply", collection="saved replies")
        register_audit_object(
            "messaging.messagingpolicy", noun="messaging policy", collection="messaging policies"
        )
        register_audit_object(
            "messaging.announcement",
            noun="announcement",
            url=lambda pk, _patient: reverse("messaging:announcement_detail", args=[pk]),
        )

    def _connect_environment_channel(self) -> None:
        """Reconcile the TWILIO_* channel when `migrate` ends and when a worker or beat starts.

        Not here in ready(): the database may not exist yet (and Django warns against queries in ready()).
        """
        from celery.signals import beat_init, worker_ready
        from django.db.models.signals import post_migrate

        from careline.messaging.services.channels import channel_environment_reconcile_safely

        post_migrate.connect(
            channel_environment_reconcile_safely, sender=self, dispatch_uid="messaging-env-channel-migrate"
        )
        worker_ready.connect(
            channel_environment_reconcile_safely, weak=False, dispatch_uid="messaging-env-channel-worker"
        )
        beat_init.connect(
            channel_environment_reconcile_safely, weak=False, dispatch_uid="messaging-env-channel-beat"
        )
