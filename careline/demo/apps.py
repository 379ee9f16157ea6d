from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "careline.demo"
    label = "demo"
    verbose_name = "Demo clinic and the embedded launcher"
