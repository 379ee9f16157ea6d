from django.apps import AppConfig


class LocationsConfig(AppConfig):
    name = "careline.locations"
    label = "locations"
    verbose_name = "Locations"
