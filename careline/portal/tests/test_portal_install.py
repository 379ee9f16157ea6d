"""The installable portal: a manifest linked from every portal page, and a service worker that keeps only
static files (never a portal page, which holds patient data), registered from a static script."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from careline.portal.views.install import SHELL_FILES, shell_urls
from careline.testing.portal import portal_account_for, portal_sign_in

pytestmark = pytest.mark.django_db


def test_the_manifest_names_the_portal_its_icons_start_page_and_standalone_display():
    response = Client().get(reverse("portal:manifest"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "/portal/" and manifest["scope"] == "/portal/"
    assert manifest["display"] == "standalone"
    assert manifest["name"]
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512", "any"} <= sizes
    for icon in manifest["icons"]:
        assert icon["src"].startswith(settings.STATIC_URL)
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL))


def test_every_portal_page_links_the_manifest_and_registers_the_worker_from_a_static_script(personas):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    for url in (reverse("portal:home"), reverse("portal:profile")):
        html = client.get(url).content.decode()
        assert f'<link rel="manifest" href="{reverse("portal:manifest")}">' in html
        assert f'data-service-worker="{reverse("portal:service_worker")}"' in html
        assert re.search(r'<script src="/static/portal/portal\.js" defer></script>', html)
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "an inline script"
    signin = Client().get(reverse("portal:signin")).content.decode()
    assert 'rel="manifest"' in signin


def test_the_worker_is_served_as_script_for_the_portal_scope():
    response = Client().get(reverse("portal:service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/portal/"
    assert Client().post(reverse("portal:service_worker")).status_code == 405


def _cached_urls(script: str) -> list[str]:
    match = re.search(r"const SHELL = (\[.*?\]);", script)
    assert match, "the worker's list of kept files"
    return list(json.loads(match.group(1)))


def test_the_workers_cache_list_holds_static_files_only_never_a_portal_page():
    script = Client().get(reverse("portal:service_worker")).content.decode()
    cached = _cached_urls(script)
    assert cached == shell_urls() and len(cached) == len(SHELL_FILES)
    for url in cached:
        assert url.startswith(settings.STATIC_URL), url
        assert not url.startswith("/portal/"), url
    offline = re.search(r'const OFFLINE = "([^"]+)";', script)
    assert offline and offline.group(1) in cached
    # Every file of the shell exists, and the shell has the page's styles, script and icons.
    assert all(finders.find(name) for name in SHELL_FILES)
    assert {"portal/portal.css", "portal/portal.js", "portal/offline.html"} <= set(SHELL_FILES)
    # Pages go to the network only: the worker never puts anything else in its cache.
    assert script.count("cache.put") == 0 and script.count("addAll(SHELL)") == 1


def test_the_offline_page_shows_no_patient_data_and_speaks_both_languages():
    path = finders.find("portal/offline.html")
    assert isinstance(path, str)
    with open(path, encoding="utf-8") as file:
        html = file.read()
    assert "You are offline" in html and "No tiene conexión" in html
    assert "<script" not in html and "{%" not in html and "{{" not in html


def test_the_registration_script_reads_the_worker_from_the_page():
    path = finders.find("portal/portal.js")
    assert isinstance(path, str)
    with open(path, encoding="utf-8") as file:
        script = file.read()
    assert "serviceWorker" in script and "data-service-worker" in script
