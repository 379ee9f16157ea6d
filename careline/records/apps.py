from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "careline.records"
    label = "records"
    verbose_name = "Records"
