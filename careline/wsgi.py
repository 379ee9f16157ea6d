"""WSGI entry point for gunicorn."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")
django.setup(set_prefix=False)

from careline.core.lean import LeanWSGIHandler  # noqa: E402

# Django's handler, except that provider webhooks (views marked without_middleware) skip the middleware.
application = LeanWSGIHandler()

# Web and workers on several hosts cannot share uploads in a local folder, SQLite or the folder broker: with
# CARELINE_MULTI_HOST=true the web server refuses to start on them, as workers do (careline/core/checks.py).
from careline.core.checks import refuse_serious_multi_host_problems  # noqa: E402

refuse_serious_multi_host_problems()

# The channel TWILIO_* describe must exist before the first webhook arrives (Twilio does not retry a 4xx).
from careline.messaging.services.channels import channel_environment_reconcile_safely  # noqa: E402

channel_environment_reconcile_safely()

# Import every view and keep what loading created out of the garbage collector's walks (careline/core/lean.py):
# a process's first requests and its full collections would otherwise stall the requests it is serving.
from careline.core.lean import application_warm_up  # noqa: E402

application_warm_up()
