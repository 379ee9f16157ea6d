"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")
application = get_wsgi_application()

# The channel TWILIO_* describe must exist before the first webhook arrives (Twilio does not retry a 4xx).
from careline.messaging.services.channels import channel_environment_reconcile_safely  # noqa: E402

channel_environment_reconcile_safely()
