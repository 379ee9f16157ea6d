import pytest


@pytest.mark.django_db
def test_personas_build(personas, client_for):
    client = client_for(personas.admin)
    assert personas.pat.primary_location == personas.location_a
    assert client.get("/healthz").status_code == 200
