"""The demo clinic: loaded once, realistic, with random sign-ins kept in a private file."""

from __future__ import annotations

import base64
import io
import re
import stat
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import User
from careline.core.permissions import Role
from careline.demo.services import DEMO_MARKER_LOCATION, DEMO_STAFF, demo_clinic_load
from careline.locations.models import Location
from careline.patients.models import (
    Caregiver,
    CareNote,
    ConsentEvent,
    ConsentKind,
    NoteAmendment,
    NoteKind,
    Patient,
    PatientAlert,
    PatientPhone,
    PatientStatus,
    PhoneKind,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def demo(var_dir):
    call_command("seed_demo", stdout=io.StringIO())
    return var_dir / "demo-signins.txt"


def _table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Location,
            User,
            Patient,
            PatientPhone,
            ConsentEvent,
            Caregiver,
            PatientAlert,
            CareNote,
            NoteAmendment,
            TOTPDevice,
        )
    }


def test_running_twice_changes_nothing(demo):
    before = _table_counts()
    passwords = demo.read_text()
    call_command("seed_demo", stdout=io.StringIO())
    assert _table_counts() == before
    assert demo.read_text() == passwords


def test_refuses_in_production(var_dir, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not Location.objects.exists()
    assert not (var_dir / "demo-signins.txt").exists()


def test_signins_file_is_private_and_every_password_works(demo):
    assert stat.S_IMODE(demo.stat().st_mode) == 0o600
    text = demo.read_text()
    for spec in DEMO_STAFF:
        password = re.search(rf"{re.escape(spec.email)}\s+password: (\S+)", text)
        assert password, spec.email
        assert User.objects.get(email=spec.email).check_password(password.group(1))


def test_passwords_are_random_per_load(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    demo_clinic_load(patients=5, notes=5)
    first = (tmp_path / "demo-signins.txt").read_text()
    call_command("seed_demo", "--reset-passwords", stdout=io.StringIO())
    second = (tmp_path / "demo-signins.txt").read_text()
    pattern = re.compile(r"password: (\S+)")
    assert set(pattern.findall(first)).isdisjoint(pattern.findall(second))


def test_admin_totp_secret_in_the_file_generates_valid_tokens(demo):
    found = re.search(r"TOTP secret \(base32\): ([A-Z2-7]+)", demo.read_text())
    assert found
    secret = found.group(1)
    assert "otpauth://totp/" in demo.read_text()
    admin = User.objects.get(email="admin@riverside.example")
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert key == device.bin_key
    totp = TOTP(key, device.step, device.t0, device.digits, device.drift)
    assert device.verify_token(f"{totp.token():06d}")


def test_one_account_per_role_and_front_desk_at_each_location(demo):
    downtown = Location.objects.get(name=DEMO_MARKER_LOCATION)
    lakeside = Location.objects.get(name="Riverside Family Clinic - Lakeside")
    assert {downtown.time_zone, lakeside.time_zone} == {"America/New_York", "America/Chicago"}
    roles = Counter(code for user in User.objects.all() for code in user.role_codes)
    assert roles == {Role.ADMIN: 1, Role.FRONT_DESK: 2, Role.CLINICIAN: 2, Role.BILLING: 1}
    fronts = User.objects.filter(role_rows__role=Role.FRONT_DESK)
    assert sorted(tuple(u.location_ids) for u in fronts) == sorted([(downtown.pk,), (lakeside.pk,)])


def test_opening_hours_have_a_split_shift_and_an_evening_past_midnight(demo):
    downtown = Location.objects.get(name=DEMO_MARKER_LOCATION)
    lakeside = Location.objects.get(name="Riverside Family Clinic - Lakeside")
    monday_noon = datetime(2025, 3, 3, 12, 30, tzinfo=ZoneInfo("America/New_York"))
    assert not downtown.is_open_at(monday_noon)  # lunch break between the two shifts
    assert downtown.is_open_at(monday_noon + timedelta(hours=1))
    saturday_half_past_midnight = datetime(2025, 3, 8, 0, 30, tzinfo=ZoneInfo("America/Chicago"))
    assert lakeside.is_open_at(saturday_half_past_midnight)
    assert lakeside.opening_hours.filter(closes__lt="02:00", opens__gte="18:00").exists()


def test_patients_look_like_a_real_registry(demo):
    patients = list(Patient.objects.all())
    assert len(patients) == 200
    spanish = sum(p.language == "es" for p in patients)
    assert 35 <= spanish <= 65  # about a quarter
    assert {p.sex for p in patients} >= {"female", "male"}
    ages = [p.age_on(timezone.now().date()) for p in patients]
    assert min(ages) < 18
    assert max(ages) >= 65
    assert sum(p.status == PatientStatus.DECEASED for p in patients) == 2
    assert 1 <= sum(p.confidential_communications for p in patients) <= 10
    assert all(
        p.last_name_key and p.first_name_key for p in patients
    )  # search keys filled despite bulk_create
    assert len({p.mrn for p in patients}) == 200


def test_phones_are_e164_in_the_clinics_area_codes_with_family_phones_and_landlines(demo):
    phones = list(PatientPhone.objects.select_related("patient__primary_location"))
    area_codes = {
        DEMO_MARKER_LOCATION: {"614", "380", "740"},
        "Riverside Family Clinic - Lakeside": {"608", "414", "262"},
    }
    for phone in phones:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone.number))
        assert phone.number[2:5] in area_codes[phone.patient.primary_location.name]
    shared = Counter(phone.number for phone in phones)
    family_sizes = sorted(count for count in shared.values() if count > 1)
    assert family_sizes
    assert all(size in (2, 3) for size in family_sizes)
    assert sum(phone.kind == PhoneKind.LANDLINE for phone in phones) >= 3


def test_consent_caregivers_alerts_and_notes(demo):
    kinds = Counter(ConsentEvent.objects.values_list("kind", flat=True))
    assert kinds[ConsentKind.GIVEN] > 100
    assert 0 < kinds[ConsentKind.REVOKED] < kinds[ConsentKind.GIVEN]
    assert 15 <= Caregiver.objects.count() <= 25
    assert 12 <= PatientAlert.objects.filter(removed_at__isnull=True).count() <= 18
    notes = CareNote.objects.all()
    assert notes.count() == 300
    assert set(notes.values_list("kind", flat=True)) == set(NoteKind.values)
    two_weeks_ago = timezone.now() - timedelta(days=15)
    assert not notes.filter(created_at__lt=two_weeks_ago).exists()
    assert not notes.filter(created_at__gt=timezone.now()).exists()
    assert NoteAmendment.objects.exists()
    assert not notes.filter(kind=NoteKind.CLINICAL).exclude(author__role_rows__role=Role.CLINICIAN).exists()


def test_demo_signins_prints_the_sign_ins_again(var_dir):
    demo_clinic_load(patients=5, notes=5)
    out = io.StringIO()
    call_command("demo_signins", stdout=out)
    assert out.getvalue().strip() == (var_dir / "demo-signins.txt").read_text().strip()
    assert "TOTP secret (base32)" in out.getvalue()


def test_demo_signins_says_how_to_get_them_when_there_are_none(var_dir):
    with pytest.raises(CommandError, match="seed_demo --reset-passwords"):
        call_command("demo_signins", stdout=io.StringIO())
