"""WSGI entry point for gunicorn."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")
django.setup(set_prefix=False)

from careline.core.lean import LeanWSGIHandler  # noqa: E402

# Django's handler, except that provider webhooks (views marked without_middleware) skip the middleware.
application = LeanWSGIHandler()

# The channel TWILIO_* describe must exist before the first webhook arrives (Twilio does not retry a 4xx).
from careline.messaging.services.channels import channel_environment_reconcile_safely  # noqa: E402

channel_environment_reconcile_safely()
