import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import User
from careline.accounts.tests.helpers import PERSONA_NAMES, is_signed_in, post_login
from careline.core.models import AuditAction, AuditEntry
from careline.core.permissions import Role

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "lilac tractor morning 5150"


def _pages(personas):
    return {
        "list": reverse("accounts:staff_list"),
        "create": reverse("accounts:staff_create"),
        "edit": reverse("accounts:staff_edit", args=[personas.front_a.pk]),
    }


@pytest.mark.parametrize("page", ["list", "create", "edit"])
@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_staff_pages_are_for_administrators_only(personas, client_for, name, page):
    url = _pages(personas)[page]
    response = client_for(personas.staff[name]).get(url)
    assert response.status_code == (200 if name == "admin" else 403)


@pytest.mark.parametrize("page", ["list", "create", "edit"])
def test_staff_pages_send_outsiders_to_sign_in(personas, client, page):
    response = client.get(_pages(personas)[page])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_mfa_reset_is_for_administrators_only(personas, client_for, client, name):
    url = reverse("accounts:staff_mfa_reset", args=[personas.clinician_a.pk])
    TOTPDevice.objects.create(user=personas.clinician_a, name="phone", confirmed=True)
    response = client_for(personas.staff[name]).post(url)
    assert response.status_code == (302 if name == "admin" else 403)
    assert TOTPDevice.objects.filter(user=personas.clinician_a).exists() == (name != "admin")
    assert client.post(url)["Location"].startswith(reverse("accounts:login"))


def test_list_shows_roles_locations_mfa_and_status(personas, client_for, django_assert_max_num_queries):
    personas.billing_a.is_active = False
    personas.billing_a.save()
    client = client_for(personas.admin)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("accounts:staff_list"))
    content = response.content.decode()
    assert "Ada Admin" in content
    assert "Administrator" in content
    assert "Northside Clinic" in content
    assert content.count('badge ok">On<') == 1  # only the administrator has an authenticator
    assert "Deactivated" in content


def test_admin_creates_staff_who_can_then_sign_in(personas, client_for, client):
    response = client_for(personas.admin).post(
        reverse("accounts:staff_create"),
        {
            "email": "New.Person@Example.test",
            "full_name": "Nova Person",
            "title": "RN",
            "roles": [Role.CLINICIAN, Role.BILLING],
            "locations": [personas.location_b.pk],
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.test")
    assert user.role_codes == {Role.CLINICIAN, Role.BILLING}
    assert list(user.locations.all()) == [personas.location_b]
    assert AuditEntry.objects.filter(
        action=AuditAction.ADMIN, object_id=str(user.pk), actor=personas.admin
    ).exists()
    post_login(client, "new.person@example.test", GOOD_PASSWORD)
    assert is_signed_in(client)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password1": "short", "password2": "short"}, b"too short"),
        ({"password1": "nova@example.test1", "password2": "nova@example.test1"}, b"too similar"),
        ({"password2": GOOD_PASSWORD + "x"}, b"The two passwords differ."),
        ({"email": "front.a@example.test"}, b"already has this email"),
        ({"email": "not an email"}, b"Enter a valid email address."),
        ({"roles": ["superuser"]}, b"Select a valid choice."),
        ({"locations": ["999999"]}, b"Select a valid choice."),
        ({"full_name": ""}, b"This field is required."),
    ],
)
def test_bad_staff_input_is_refused_and_creates_nothing(personas, client_for, changes, message):
    data = {
        "email": "nova@example.test",
        "full_name": "Nova Person",
        "roles": [Role.FRONT_DESK],
        "locations": [personas.location_a.pk],
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        **changes,
    }
    count = User.objects.count()
    response = client_for(personas.admin).post(reverse("accounts:staff_create"), data)
    assert response.status_code == 200
    assert message in response.content
    assert User.objects.count() == count


def _edit_data(user, **changes):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "title": user.title,
        "roles": sorted(user.role_codes),
        "locations": [location.pk for location in user.locations.all()],
        "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_admin_changes_roles_locations_and_deactivates(personas, client_for):
    client = client_for(personas.admin)
    url = reverse("accounts:staff_edit", args=[personas.front_a.pk])
    data = _edit_data(
        personas.front_a, roles=[Role.CLINICIAN], locations=[personas.location_b.pk], is_active=""
    )
    assert client.post(url, data).status_code == 302
    user = User.objects.get(pk=personas.front_a.pk)
    assert user.role_codes == {Role.CLINICIAN}
    assert list(user.locations.all()) == [personas.location_b]
    assert user.is_active is False
    entry = AuditEntry.objects.filter(action=AuditAction.ADMIN, object_id=str(user.pk)).latest("id")
    assert "deactivated" in entry.detail
    assert "roles" in entry.detail
    assert "locations" in entry.detail


def test_deactivated_staff_are_signed_out(personas, client_for):
    front = client_for(personas.front_a)
    client_for(personas.admin).post(
        reverse("accounts:staff_edit", args=[personas.front_a.pk]), _edit_data(personas.front_a, is_active="")
    )
    assert front.get(reverse("accounts:profile")).status_code == 302


def test_admin_sets_a_new_password_for_someone(personas, client_for, client):
    data = _edit_data(personas.front_a, password1=GOOD_PASSWORD, password2=GOOD_PASSWORD)
    client_for(personas.admin).post(reverse("accounts:staff_edit", args=[personas.front_a.pk]), data)
    post_login(client, "front.a@example.test", GOOD_PASSWORD)
    assert is_signed_in(client)


def test_admin_cannot_deactivate_themself(personas, client_for):
    response = client_for(personas.admin).post(
        reverse("accounts:staff_edit", args=[personas.admin.pk]), _edit_data(personas.admin, is_active="")
    )
    assert response.status_code == 200
    assert b"You cannot deactivate your own account." in response.content
    assert User.objects.get(pk=personas.admin.pk).is_active


def test_admin_cannot_remove_their_own_admin_role(personas, client_for):
    response = client_for(personas.admin).post(
        reverse("accounts:staff_edit", args=[personas.admin.pk]),
        _edit_data(personas.admin, roles=[Role.CLINICIAN]),
    )
    assert response.status_code == 200
    assert b"You cannot remove your own Administrator role." in response.content
    assert User.objects.get(pk=personas.admin.pk).role_codes == {Role.ADMIN}


def test_edit_refuses_someone_elses_email(personas, client_for):
    response = client_for(personas.admin).post(
        reverse("accounts:staff_edit", args=[personas.front_a.pk]),
        _edit_data(personas.front_a, email="nurse.a@example.test"),
    )
    assert b"Someone else already has this email address." in response.content
    assert User.objects.get(pk=personas.front_a.pk).email == "front.a@example.test"


def test_edit_of_unknown_staff_is_404(personas, client_for):
    assert client_for(personas.admin).get(reverse("accounts:staff_edit", args=[999999])).status_code == 404


def test_reset_authenticator_is_audited_and_forces_setup_at_next_sign_in(personas, client_for, client):
    other_admin = User.objects.create_user(
        "second.admin@example.test", GOOD_PASSWORD, full_name="Sam Second", roles=[Role.ADMIN]
    )
    TOTPDevice.objects.create(user=other_admin, name="phone", confirmed=True)
    client_for(personas.admin).post(reverse("accounts:staff_mfa_reset", args=[other_admin.pk]))
    assert not TOTPDevice.objects.filter(user=other_admin).exists()
    assert AuditEntry.objects.filter(
        action=AuditAction.MFA, detail="authenticator reset", actor=personas.admin
    ).exists()
    response = post_login(client, "second.admin@example.test", GOOD_PASSWORD)
    assert response["Location"] == reverse("accounts:mfa_setup")


def test_admin_cannot_reset_their_own_authenticator_from_staff_page(personas, client_for):
    client_for(personas.admin).post(reverse("accounts:staff_mfa_reset", args=[personas.admin.pk]))
    assert TOTPDevice.objects.filter(user=personas.admin, confirmed=True).exists()


def test_mfa_reset_is_post_only(personas, client_for):
    url = reverse("accounts:staff_mfa_reset", args=[personas.front_a.pk])
    assert client_for(personas.admin).get(url).status_code == 405


def test_admin_pages_have_the_sub_navigation(personas, client_for):
    content = client_for(personas.admin).get(reverse("accounts:staff_list")).content.decode()
    for url in (reverse("accounts:staff_list"), reverse("locations:list"), reverse("accounts:api_tokens")):
        assert f'href="{url}"' in content
