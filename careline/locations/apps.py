from django.apps import AppConfig


class LocationsConfig(AppConfig):
    name = "careline.locations"
    label = "locations"
    verbose_name = "Locations"

    def ready(self) -> None:
        from django.urls import reverse

        from careline.core.queries.audit_lines import register_audit_object

        register_audit_object(
            "locations.location",
            noun="location",
            url=lambda pk, _patient: reverse("locations:edit", args=[pk]),
        )
