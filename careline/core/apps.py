from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "careline.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from celery.signals import worker_init

        from careline.core import (
            checks,  # registers the start-up checks
            lookups,  # noqa: F401 - registers the `__any_of` lookup
        )

        worker_init.connect(checks.refuse_worker_start, weak=False, dispatch_uid="core-multi-host-worker")
        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object("core.auditentry", noun="audit trail", collection="the audit trail")
