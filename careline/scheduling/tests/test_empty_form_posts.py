"""A booking, series or waitlist form sent empty answers with its errors (400), never a crash."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/schedule/book", "/schedule/series", "/schedule/waitlist"])
def test_an_empty_post_shows_the_page_again(personas: Any, client_for: Any, url: str) -> None:
    client = client_for(personas.front_a)
    response = client.post(url, {})
    assert response.status_code == 400
    assert b'name="q"' in response.content  # the page again, to find the patient first


@pytest.mark.parametrize("url", ["/schedule/book", "/schedule/series"])
def test_an_empty_booking_post_says_to_choose_the_patient_first(
    personas: Any, client_for: Any, url: str
) -> None:
    response = client_for(personas.front_a).post(url, {})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in page and "Find and choose the patient first." in page
    # Only that: the other fields are not on the page yet, so their errors would point nowhere.
    assert "This field is required" not in page
