"""A Content-Security-Policy without inline scripts on every page, and templates that need none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from careline.testing.personas import sign_in
from careline.testing.urlsweep import routes, sample_url

CAREL_DIR = Path(settings.BASE_DIR) / "careline"
TEMPLATES = sorted(
    [*CAREL_DIR.glob("templates/**/*.html"), *CAREL_DIR.glob("*/templates/**/*.html")],
    key=str,
)

# What the policy forbids, as it would appear in a template.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"\b(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)
HTMX_EVAL = re.compile(
    r"\bhx-on\b|\bhx-on[:-]|hx-trigger=\"[^\"]*\[|\bhx-vars=|hx-vals=[\"']\s*js:", re.IGNORECASE
)


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {parts[0]: parts[1:] for parts in directives}


def test_there_are_templates_to_scan():
    assert len(TEMPLATES) > 50
    assert CAREL_DIR / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize(
    ("pattern", "offending"),
    [
        (INLINE_SCRIPT, "<script>alert(1)</script>"),
        (INLINE_SCRIPT, '<script type="module">x()</script>'),
        (EVENT_HANDLER, '<input value="x" onclick="this.select()">'),
        (EVENT_HANDLER, '<body\n  onload="go()">'),
        (SCRIPT_URL, '<a href="javascript:void(0)">'),
        (HTMX_EVAL, "<div hx-trigger=\"every 3s [document.visibilityState=='visible']\">"),
        (HTMX_EVAL, '<button hx-on:click="go()">'),
    ],
)
def test_the_scan_recognises_what_the_policy_blocks(pattern, offending):
    assert pattern.search(offending)


@pytest.mark.parametrize(
    "allowed",
    [
        '<script src="/static/vendor/htmx.min.js" defer></script>',
        '<input name="location" data-select-on-focus>',
        '<div hx-get="/x" hx-trigger="every 3s" data-poll-while-visible>',
        "<p>Reply on= time</p>",
    ],
)
def test_the_scan_lets_external_scripts_and_data_attributes_pass(allowed):
    assert not any(p.search(allowed) for p in (INLINE_SCRIPT, EVENT_HANDLER, SCRIPT_URL, HTMX_EVAL))


def test_no_template_has_inline_script_event_handlers_or_evaluated_htmx():
    found = []
    for template in TEMPLATES:
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, SCRIPT_URL, HTMX_EVAL):
            found += [f"{template.relative_to(CAREL_DIR)}: {m.group(0)[:80]}" for m in pattern.finditer(text)]
    assert found == []


# Every path of the URL configuration, each argument filled with a placeholder (the shared walker).
ROUTES = sorted({sample_url(route) for route in routes()})


def test_the_url_sweep_covers_the_site():
    assert {"/healthz", "/accounts/login", "/inbox/", "/api/v1/docs", "/audit/", "/patients/1"} <= set(ROUTES)


@pytest.mark.django_db
def test_every_route_answers_with_a_policy_that_runs_no_inline_script(url_world):
    """Each page filled with real rows of location A (so it renders, not 404s), signed in and not."""
    signed_in = sign_in(Client(raise_request_exception=False), url_world.personas.front_a)
    anonymous = Client(raise_request_exception=False)
    missing = []
    for url in sorted({url_world.url(route, url_world.a) for route in routes()}):
        for who, client in (("anonymous", anonymous), ("front desk", signed_in)):
            response = client.get(url)
            policy = _policy(response)
            script_src = policy.get("script-src", policy.get("default-src"))
            if script_src != ["'self'"] or policy.get("object-src") != ["'none'"]:
                missing.append(f"{url} ({who}, {response.status_code}): {policy}")
    assert missing == []


@pytest.mark.django_db
def test_the_policy_allows_only_our_own_scripts_styles_and_frames_nothing(client):
    policy = _policy(client.get("/accounts/login"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]  # no <style> elements; style attributes only via style-src-attr
    assert policy["frame-ancestors"] == ["'none'"]
    assert all("unsafe-eval" not in value for values in policy.values() for value in values)


@pytest.mark.django_db
def test_the_base_page_tells_htmx_not_to_inject_styles_or_evaluate_code(client):
    html = client.get("/accounts/login").content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html
    assert "careline/careline.js" in html
