"""The Celery application: workers and the beat scheduler share Django's settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

app = Celery("careline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
