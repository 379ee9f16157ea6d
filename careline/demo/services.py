"""The demo clinic: two locations, one account per role and a registry of made-up patients.

Everything is generated from a fixed seed (names, phones, notes), except the staff passwords and the
administrator's TOTP secret, which are random on every fresh load and written only to var/demo-signins.txt.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import User
from careline.core.permissions import Role
from careline.demo.portal_seed import PortalSignIn, portal_demo_passwords_reset, portal_demo_populate
from careline.demo.registry import DemoStaff, registry_populate
from careline.locations.models import Location, OpeningHours, Weekday

DEMO_MARKER_LOCATION = "Riverside Family Clinic - Downtown"
DEMO_SEED = 20250401
SIGNINS_FILE_NAME = "demo-signins.txt"


class DemoRefusedError(Exception):
    """The demo clinic may not be loaded here (production)."""


@dataclass(frozen=True)
class LocationSpec:
    name: str
    address_line1: str
    city: str
    region: str
    postal_code: str
    phone: str
    time_zone: str
    area_codes: tuple[str, ...]
    # (weekday, opens, closes); closes <= opens runs past midnight.
    hours: tuple[tuple[int, str, str], ...]


DOWNTOWN = LocationSpec(
    name=DEMO_MARKER_LOCATION,
    address_line1="120 North High Street",
    city="Columbus",
    region="OH",
    postal_code="43215",
    phone="+16145550100",
    time_zone="America/New_York",
    area_codes=("614", "380", "740"),
    # A split shift on weekdays (closed for lunch), Saturday mornings.
    hours=(
        *tuple(
            (day, opens, closes)
            for day in range(5)
            for opens, closes in (("08:00", "12:00"), ("13:00", "17:30"))
        ),
        (Weekday.SATURDAY, "09:00", "13:00"),
    ),
)
LAKESIDE = LocationSpec(
    name="Riverside Family Clinic - Lakeside",
    address_line1="45 Lakeshore Drive",
    city="Madison",
    region="WI",
    postal_code="53703",
    phone="+16085550100",
    time_zone="America/Chicago",
    area_codes=("608", "414", "262"),
    # Long weekdays, and a Friday evening clinic that closes after midnight.
    hours=(*tuple((day, "07:30", "16:00") for day in range(5)), (Weekday.FRIDAY, "18:00", "01:00")),
)
DEMO_LOCATIONS = (DOWNTOWN, LAKESIDE)


@dataclass(frozen=True)
class StaffSpec:
    key: str
    email: str
    full_name: str
    title: str
    role: str
    locations: tuple[str, ...]


DEMO_STAFF = (
    StaffSpec(
        "admin",
        "admin@riverside.example",
        "Alex Morgan",
        "Practice manager",
        Role.ADMIN,
        (DOWNTOWN.name, LAKESIDE.name),
    ),
    StaffSpec(
        "front_downtown",
        "frontdesk.downtown@riverside.example",
        "Dana Brooks",
        "Front desk",
        Role.FRONT_DESK,
        (DOWNTOWN.name,),
    ),
    StaffSpec(
        "front_lakeside",
        "frontdesk.lakeside@riverside.example",
        "Luis Herrera",
        "Front desk",
        Role.FRONT_DESK,
        (LAKESIDE.name,),
    ),
    StaffSpec(
        "nurse", "nurse@riverside.example", "Priya Shah", "RN", Role.CLINICIAN, (DOWNTOWN.name, LAKESIDE.name)
    ),
    StaffSpec(
        "doctor",
        "doctor@riverside.example",
        "Dr. Samuel Okafor",
        "MD",
        Role.CLINICIAN,
        (DOWNTOWN.name, LAKESIDE.name),
    ),
    StaffSpec(
        "billing",
        "billing@riverside.example",
        "Morgan Lee",
        "Billing",
        Role.BILLING,
        (DOWNTOWN.name, LAKESIDE.name),
    ),
)


@dataclass
class DemoSummary:
    """What a load created (or found), for the command's output."""

    created: bool
    signins_path: Path
    counts: dict[str, int] = field(default_factory=dict)


def signins_path() -> Path:
    """Where the demo sign-ins are written: var/demo-signins.txt."""
    return Path(settings.VAR_DIR) / SIGNINS_FILE_NAME


def demo_clinic_exists() -> bool:
    """Whether the demo clinic was already loaded (its first location is the marker)."""
    return Location.objects.filter(name=DEMO_MARKER_LOCATION).exists()


def _new_password() -> str:
    # 16 URL-safe characters (96 bits): passes the length, common and numeric password validators.
    return secrets.token_urlsafe(12)


def _locations_create() -> dict[str, Location]:
    created: dict[str, Location] = {}
    for spec in DEMO_LOCATIONS:
        location = Location.objects.create(
            name=spec.name,
            address_line1=spec.address_line1,
            city=spec.city,
            region=spec.region,
            postal_code=spec.postal_code,
            phone=spec.phone,
            time_zone=spec.time_zone,
        )
        OpeningHours.objects.bulk_create(
            OpeningHours(
                location=location,
                weekday=day,
                opens=time.fromisoformat(opens),
                closes=time.fromisoformat(closes),
            )
            for day, opens, closes in spec.hours
        )
        created[spec.name] = location
    return created


def _staff_create(locations: dict[str, Location]) -> tuple[dict[str, User], dict[str, str]]:
    users: dict[str, User] = {}
    passwords: dict[str, str] = {}
    for spec in DEMO_STAFF:
        password = _new_password()
        user = User.objects.create_user(
            spec.email, password, full_name=spec.full_name, title=spec.title, roles=[spec.role]
        )
        user.locations.set([locations[name] for name in spec.locations])
        users[spec.key] = user
        passwords[spec.key] = password
    return users, passwords


def totp_secret_base32(device: TOTPDevice) -> str:
    """The device's secret as authenticator apps expect it (base32, no padding)."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def signins_write(
    *,
    path: Path,
    users: dict[str, User],
    passwords: dict[str, str],
    device: TOTPDevice,
    portal: Sequence[PortalSignIn] = (),
) -> None:
    """Write the demo accounts, their passwords and the admin's TOTP secret to PATH, readable by the owner only."""
    lines = [
        "Careline demo clinic: sign-ins (generated at load time; keep this file private)",
        f"Address: {settings.PUBLIC_BASE_URL}/accounts/login",
        "",
    ]
    for spec in DEMO_STAFF:
        user = users[spec.key]
        lines.append(f"{Role(spec.role).label:<14} {user.email:<40} password: {passwords[spec.key]}")
        lines.append(
            f"{'':<14} {user.full_name}, {', '.join(name.rsplit(' - ', 1)[-1] for name in spec.locations)}"
        )
    lines += [
        "",
        "The administrator signs in with a one-time code. Add this secret to an authenticator app:",
        f"TOTP secret (base32): {totp_secret_base32(device)}",
        f"otpauth URL: {device.config_url}",
        "",
    ]
    if portal:
        lines += ["Patient portal", f"Address: {settings.PUBLIC_BASE_URL}/portal/signin/", ""]
        for signin in portal:
            lines.append(f"{signin.label:<14} {signin.identifier:<40} password: {signin.password}")
            lines.append(f"{'':<14} {signin.who}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Create with 0600 from the start so the passwords are never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines))
    path.chmod(0o600)


def demo_clinic_load(*, patients: int = 200, notes: int = 300, seed: int = DEMO_SEED) -> DemoSummary:
    """Load the demo clinic once: does nothing when it is already there; refuses in production."""
    if settings.PRODUCTION:
        raise DemoRefusedError("the demo clinic is never loaded when CARELINE_ENV=production")
    path = signins_path()
    if demo_clinic_exists():
        return DemoSummary(created=False, signins_path=path)
    with transaction.atomic():
        locations = _locations_create()
        users, passwords = _staff_create(locations)
        device = TOTPDevice.objects.create(user=users["admin"], name="Demo authenticator", confirmed=True)
        staff = DemoStaff(
            admin=users["admin"],
            front_desk={DOWNTOWN.name: users["front_downtown"], LAKESIDE.name: users["front_lakeside"]},
            clinicians=[users["nurse"], users["doctor"]],
            billing=users["billing"],
        )
        counts = registry_populate(
            locations=[locations[spec.name] for spec in DEMO_LOCATIONS],
            area_codes={spec.name: spec.area_codes for spec in DEMO_LOCATIONS},
            staff=staff,
            patients=patients,
            notes=notes,
            seed=seed,
        )
        from careline.demo.messaging_seed import messaging_demo_populate

        counts |= messaging_demo_populate(
            locations=[locations[spec.name] for spec in DEMO_LOCATIONS], staff=staff, seed=seed
        )
        from careline.demo.scheduling_seed import scheduling_demo_populate

        counts |= scheduling_demo_populate(
            locations=[locations[spec.name] for spec in DEMO_LOCATIONS], staff=staff, seed=seed
        )
        from careline.billing.demo import billing_seed_demo

        counts |= billing_seed_demo(admin=users["admin"], billing=users["billing"], seed=seed)
        portal_counts, portal_signins = portal_demo_populate(today=timezone.localdate())
        counts |= portal_counts
        from careline.demo.portal_help_seed import portal_help_demo_populate

        counts |= portal_help_demo_populate(front_desk=users["front_downtown"])
        counts |= _records_seed(staff)
        from careline.oncall.demo import oncall_seed_demo

        counts |= oncall_seed_demo(
            locations=[locations[spec.name] for spec in DEMO_LOCATIONS],
            clinicians=staff.clinicians,
            today=timezone.localdate(),
        )
        counts |= _care_seed(staff)
        counts |= _referrals_seed(staff)
        from careline.outreach.demo import outreach_seed_demo

        outreach_counts = outreach_seed_demo(
            location=locations[DEMO_LOCATIONS[0].name],
            front_desk=users["front_downtown"],
            now=timezone.now(),
        )
        counts |= outreach_counts
        counts["appointments"] += outreach_counts["recalls_booked"]  # visits booked after the recall
        from careline.surveys.demo import surveys_seed_demo

        counts |= surveys_seed_demo(
            locations=[locations[spec.name] for spec in DEMO_LOCATIONS],
            managers=staff.front_desk,
            now=timezone.now(),
            seed=seed,
        )
        from careline.education.demo import education_seed_demo

        counts |= education_seed_demo(author=staff.clinicians[0], now=timezone.now())
        from careline.training.demo import training_seed_demo

        counts |= training_seed_demo(users=users, today=timezone.localdate())
        signins_write(path=path, users=users, passwords=passwords, device=device, portal=portal_signins)
    counts = {"locations": len(locations), "staff": len(users), **counts}
    return DemoSummary(created=True, signins_path=path, counts=counts)


def _records_seed(staff: DemoStaff) -> dict[str, int]:
    """Clinical records and results for the patients with portal accounts and a few more."""
    from careline.patients.models import Patient
    from careline.portal.models import PortalAccess
    from careline.records.demo import records_seed_demo

    with_portal = list(
        Patient.objects.filter(pk__in=PortalAccess.objects.values("patient_id")).order_by("pk")
    )
    others = list(
        Patient.objects.filter(status="active").exclude(pk__in=[p.pk for p in with_portal]).order_by("pk")[:5]
    )
    return records_seed_demo(patients=with_portal + others, clinicians=staff.clinicians, now=timezone.now())


def _care_seed(staff: DemoStaff) -> dict[str, int]:
    """Care programs for six patients who have a mobile number with text consent (the simulator can reply)."""
    from careline.care.demo import care_seed_demo
    from careline.patients.models import ConsentEvent, ConsentKind, Patient

    consented = ConsentEvent.objects.filter(kind=ConsentKind.GIVEN).values("phone_number")
    patients = list(
        Patient.objects.filter(
            status="active", phones__is_primary=True, phones__kind="mobile", phones__number__in=consented
        )
        .select_related("primary_location")
        .distinct()
        .order_by("pk")[:6]
    )
    return care_seed_demo(patients=patients, clinician=staff.clinicians[0], now=timezone.now())


def _referrals_seed(staff: DemoStaff) -> dict[str, int]:
    """The referral directory and a referral in every state, for patients with a mobile number and text
    consent after those in care programs (the simulator can answer the check-in)."""
    from careline.patients.models import ConsentEvent, ConsentKind, Patient
    from careline.referrals.demo import referrals_seed_demo

    consented = ConsentEvent.objects.filter(kind=ConsentKind.GIVEN).values("phone_number")
    patients = list(
        Patient.objects.filter(
            status="active", phones__is_primary=True, phones__kind="mobile", phones__number__in=consented
        )
        .select_related("primary_location")
        .distinct()
        .order_by("pk")[6:14]
    )
    return referrals_seed_demo(patients=patients, clinician=staff.clinicians[0], now=timezone.now())


def demo_passwords_reset() -> DemoSummary:
    """New random passwords and a new admin TOTP secret for the demo accounts, rewritten to the sign-ins file."""
    if settings.PRODUCTION:
        raise DemoRefusedError("the demo clinic is never touched when CARELINE_ENV=production")
    if not demo_clinic_exists():
        raise DemoRefusedError("there is no demo clinic to reset; run seed_demo first")
    users: dict[str, User] = {}
    passwords: dict[str, str] = {}
    with transaction.atomic():
        for spec in DEMO_STAFF:
            user = User.objects.get(email=spec.email)
            passwords[spec.key] = _new_password()
            user.set_password(passwords[spec.key])
            user.save(update_fields=["password"])
            users[spec.key] = user
        TOTPDevice.objects.filter(user=users["admin"]).delete()
        device = TOTPDevice.objects.create(user=users["admin"], name="Demo authenticator", confirmed=True)
        signins_write(
            path=signins_path(),
            users=users,
            passwords=passwords,
            device=device,
            portal=portal_demo_passwords_reset(),
        )
    return DemoSummary(created=False, signins_path=signins_path())
