"""The Careline WSGI app plus one bare Django view (`/bench/bare`), for the inbound webhook benchmark."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

settings.ROOT_URLCONF = "bench.inbound_urls"
application = get_wsgi_application()
