"""The patient page offers 'Text patient' to those who may text, never for a deceased patient."""

from django.urls import reverse

from careline.patients.models import PatientStatus


def test_front_desk_sees_text_patient_link(personas, client_for):
    response = client_for(personas.front_a).get(reverse("patients:detail", args=[personas.pat.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="{reverse("messaging:start")}"' in html
    assert f'name="patient" value="{personas.pat.pk}"' in html


def test_no_text_link_for_a_deceased_patient(personas, client_for):
    personas.pat.status = PatientStatus.DECEASED
    personas.pat.save()
    response = client_for(personas.front_a).get(reverse("patients:detail", args=[personas.pat.pk]))
    assert reverse("messaging:start") not in response.content.decode()


def test_text_link_opens_the_conversation(personas, client_for):
    response = client_for(personas.front_a).post(reverse("messaging:start"), {"patient": personas.pat.pk})
    assert response.status_code == 302
    assert "/inbox/" in response["Location"]
