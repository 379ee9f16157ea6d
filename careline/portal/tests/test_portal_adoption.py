"""The portal adoption figure on the staff reports page: invited, activated and active in the last 30 days,
per location, through the reports page's section registry (scheduling never imports the portal)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.patients.models import Patient
from careline.portal.models import PortalAccount
from careline.portal.queries.adoption import portal_adoption
from careline.portal.tests.portal_support import texting_all_day
from careline.scheduling.report_sections import (
    report_section_register,
    report_section_unregister,
    report_sections_for,
)
from careline.testing.personas import sign_in
from careline.testing.portal import portal_account_for

pytestmark = pytest.mark.django_db
__all__ = ["texting_all_day"]

REPORT = reverse("scheduling:reminders_report")


@pytest.fixture
def adoption(personas) -> None:
    active = portal_account_for(personas.pat)
    PortalAccount.objects.filter(pk=active.pk).update(last_sign_in_at=timezone.now() - timedelta(days=2))
    lapsed_patient = Patient.objects.create(
        mrn="MRN-LAPSED", legal_first_name="Lee", legal_last_name="Chan",
        date_of_birth="1990-01-01", primary_location=personas.location_a,
    )  # fmt: skip
    lapsed = portal_account_for(lapsed_patient)
    PortalAccount.objects.filter(pk=lapsed.pk).update(last_sign_in_at=timezone.now() - timedelta(days=31))
    invited_patient = Patient.objects.create(
        mrn="MRN-INVITED", legal_first_name="Ida", legal_last_name="Ng",
        date_of_birth="1991-01-01", primary_location=personas.location_a,
    )  # fmt: skip
    PortalAccount.objects.create(email="ida@example.test", display_name="Ida", patient=invited_patient)
    portal_account_for(personas.quinn, email="quinn@example.test")  # location B


def test_the_figure_counts_invited_activated_and_active_per_location(personas, adoption):
    rows = {row.location.name: row for row in portal_adoption([personas.location_a, personas.location_b])}
    a, b = rows["Northside Clinic"], rows["Harbor Clinic"]
    assert (a.invited, a.activated, a.active) == (3, 2, 1)
    assert (b.invited, b.activated, b.active) == (1, 1, 0)


def test_the_reports_page_shows_the_figure_for_the_locations_the_person_sees(
    personas, adoption, django_assert_max_num_queries
):
    client = sign_in(Client(), personas.front_a)
    client.get(REPORT)
    with django_assert_max_num_queries(40):
        page = client.get(REPORT).content.decode()
    assert "Patient portal adoption" in page
    table = page.split('id="portal-adoption"', 1)[1]
    assert "Northside Clinic" in table and "Harbor Clinic" not in table
    both = sign_in(Client(), personas.admin).get(REPORT).content.decode().split('id="portal-adoption"', 1)[1]
    assert "Northside Clinic" in both and "Harbor Clinic" in both
    chosen = (
        sign_in(Client(), personas.admin).get(REPORT, {"location": personas.location_b.pk}).content.decode()
    )
    assert "Northside Clinic" not in chosen.split('id="portal-adoption"', 1)[1]


@pytest.mark.parametrize(
    ("role", "sees"), [("admin", True), ("front_a", True), ("clinician_a", False), ("billing_a", False)]
)
def test_only_those_who_see_reports_see_the_figure(personas, role, sees):
    response = sign_in(Client(), personas.staff[role]).get(REPORT)
    assert (response.status_code == 200) is sees
    assert ("Patient portal adoption" in response.content.decode()) is sees


def test_the_registry_refuses_a_taken_code_and_keeps_order(personas):
    with pytest.raises(ValueError, match="already registered"):
        report_section_register(
            code="portal-adoption", title="x", template="x.html", context=lambda u, ls: {}
        )
    with pytest.raises(ValueError, match="slug"):
        report_section_register(code="Not a slug", title="x", template="x.html", context=lambda u, ls: {})
    report_section_register(code="first", title="First", template="x.html", context=lambda u, ls: {}, order=1)
    try:
        codes = [s.code for s in report_sections_for(personas.admin, [personas.location_a])]
        assert codes[:2] == ["first", "portal-adoption"]
    finally:
        report_section_unregister("first")


def test_an_invitation_not_yet_accepted_counts_as_invited(personas, texting_all_day):
    from careline.core.actor import Actor
    from careline.portal.services.invitations import portal_invitation_send

    portal_invitation_send(patient=personas.pat, actor=Actor.staff(personas.front_a))
    portal_invitation_send(patient=personas.pat, actor=Actor.staff(personas.front_a))  # re-sent: one patient
    row = portal_adoption([personas.location_a])[0]
    assert (row.invited, row.activated, row.active) == (1, 0, 0)
