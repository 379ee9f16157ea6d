"""The site's icon: an SVG linked from every page, and /favicon.ico answered (never a 404 in the log)."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db

ICON = "careline/favicon.svg"


def test_the_svg_icon_is_a_static_file():
    path = finders.find(ICON)
    assert path, "careline/static/careline/favicon.svg is missing"
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert text.lstrip().startswith("<svg") and "</svg>" in text
    assert "<script" not in text


def test_every_page_links_the_icon(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert f'<link rel="icon" href="{static(ICON)}" type="image/svg+xml">' in page


def test_favicon_ico_answers_with_the_icon_for_anyone(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302)
    assert response["Location"] == static(ICON)


def test_favicon_ico_takes_no_writes(client):
    assert client.post("/favicon.ico").status_code == 405
