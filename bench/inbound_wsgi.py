"""The Careline WSGI app plus one bare Django view (`/bench/bare`), for the inbound webhook benchmark."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.settings")

import django
from django.conf import settings

django.setup(set_prefix=False)
settings.ROOT_URLCONF = "bench.inbound_urls"

from careline.core.lean import LeanWSGIHandler  # noqa: E402

application = LeanWSGIHandler()

from careline.core.lean import application_warm_up  # noqa: E402

application_warm_up()  # as careline/wsgi.py does
