"""The shared cast of every access test: staff of each role at location A, front desk at B, and patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import User
from careline.core.permissions import Role
from careline.locations.models import Location, OpeningHours
from careline.patients.models import (
    Caregiver,
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    Patient,
    PatientPhone,
    PhoneKind,
)

PASSWORD = "correct horse battery staple 42"
# Every test hashes with this (careline/conftest.py); Argon2 stays the production hasher.
TEST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Personas:
    location_a: Location
    location_b: Location
    admin: User
    front_a: User
    clinician_a: User
    billing_a: User
    front_b: User
    pat: Patient
    quinn: Patient
    pat_caregiver: Caregiver

    @property
    def staff(self) -> dict[str, User]:
        return {
            "admin": self.admin,
            "front_a": self.front_a,
            "clinician_a": self.clinician_a,
            "billing_a": self.billing_a,
            "front_b": self.front_b,
        }


def make_location(name: str, tz: str, phone: str) -> Location:
    location = Location.objects.create(
        name=name,
        address_line1="1 Main St",
        city="Springfield",
        region="IL",
        postal_code="62701",
        phone=phone,
        time_zone=tz,
    )
    for weekday in range(5):
        OpeningHours.objects.create(location=location, weekday=weekday, opens="08:00", closes="17:00")
    return location


def make_staff(email: str, name: str, roles: list[str], locations: list[Location]) -> User:
    user = User.objects.create_user(email, PASSWORD, full_name=name, roles=roles)
    user.locations.set(locations)
    return user


def build_personas() -> Personas:
    """Create the personas in the test database."""
    location_a = make_location("Northside Clinic", "America/Chicago", "+13125550100")
    location_b = make_location("Harbor Clinic", "America/Los_Angeles", "+14155550100")
    admin = make_staff("admin@example.test", "Ada Admin", [Role.ADMIN], [location_a, location_b])
    TOTPDevice.objects.create(user=admin, name="Authenticator", confirmed=True)
    front_a = make_staff("front.a@example.test", "Frankie Front", [Role.FRONT_DESK], [location_a])
    clinician_a = make_staff("nurse.a@example.test", "Casey Clinician", [Role.CLINICIAN], [location_a])
    billing_a = make_staff("billing.a@example.test", "Bo Billing", [Role.BILLING], [location_a])
    front_b = make_staff("front.b@example.test", "Blair Front", [Role.FRONT_DESK], [location_b])
    pat = Patient.objects.create(
        mrn="MRN-PAT-1",
        legal_first_name="Patricia",
        legal_last_name="Ortega",
        preferred_name="Pat",
        date_of_birth=date(1980, 4, 12),
        primary_location=location_a,
        primary_clinician=clinician_a,
        email="pat@example.test",
    )
    PatientPhone.objects.create(patient=pat, number="+13125550111", kind=PhoneKind.MOBILE, is_primary=True)
    ConsentEvent.objects.create(
        phone_number="+13125550111",
        kind=ConsentKind.GIVEN,
        method=ConsentMethod.FORM,
        patient=pat,
        recorded_by=front_a,
        occurred_at=timezone.now(),
    )
    quinn = Patient.objects.create(
        mrn="MRN-QUINN-2",
        legal_first_name="Quinn",
        legal_last_name="Baker",
        date_of_birth=date(1975, 11, 3),
        primary_location=location_b,
        language="es",
    )
    PatientPhone.objects.create(patient=quinn, number="+14155550122", kind=PhoneKind.MOBILE, is_primary=True)
    caregiver = Caregiver.objects.create(
        patient=pat,
        name="Sam Ortega",
        relationship="spouse",
        phone="+13125550133",
        receives_appointments=True,
    )
    return Personas(
        location_a, location_b, admin, front_a, clinician_a, billing_a, front_b, pat, quinn, caregiver
    )


def sign_in(client: Client, user: User) -> Client:
    """Sign USER in on CLIENT, passing two-factor verification when they have a device."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
