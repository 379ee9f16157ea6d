from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "careline.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from careline.core import checks  # noqa: F401 - registers the start-up checks
        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object("core.auditentry", noun="audit trail", collection="the audit trail")
