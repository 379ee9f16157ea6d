from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "careline.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from careline.messaging import timeline  # noqa: F401 - registers messages on the patient timeline
        from careline.messaging.channels import load_channel_types

        load_channel_types()
