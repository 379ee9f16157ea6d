"""Every page names Careline's own icon, so browsers do not ask for /favicon.ico (a 404 on every page load)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.django_db
def test_the_base_page_links_an_icon_that_is_served(client):
    html = client.get("/accounts/login").content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link is not None
    icon = client.get(link.group(1))
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])
