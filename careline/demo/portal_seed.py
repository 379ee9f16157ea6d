"""Portal accounts of the demo clinic: a few patients' own accounts and a parent with two children.

Passwords are random on every load (like the staff's) and go only to the demo sign-ins file.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from careline.patients.models import Caregiver, Patient, PatientStatus
from careline.portal.models import ALL_SECTIONS, PortalAccess, PortalAccount, PortalSection

# A parent sees their children's visits, messages and bills; records and results close at the age the
# settings name (the portal checks), so the demo grants them too for the younger child.
PARENT_SECTIONS = list(ALL_SECTIONS)
OWN_ACCOUNTS = 3


@dataclass(frozen=True)
class PortalSignIn:
    """One portal sign-in for the demo sign-ins file."""

    label: str
    identifier: str
    password: str
    who: str


def _password() -> str:
    return secrets.token_urlsafe(12)


def _adults(today: date) -> list[Patient]:
    adult_born_before = today.replace(year=today.year - 18)
    return list(
        Patient.objects.filter(status=PatientStatus.ACTIVE, date_of_birth__lt=adult_born_before)
        .exclude(email="")
        .filter(confidential_communications=False)
        .order_by("pk")[:OWN_ACCOUNTS]
    )


def portal_demo_populate(*, today: date) -> tuple[dict[str, int], list[PortalSignIn]]:
    """Own accounts for the first adult patients with an email, and a parent's account for two children."""
    signins = []
    for patient in _adults(today):
        account = PortalAccount(
            email=patient.email.lower(),
            display_name=patient.first_name,
            language=patient.language,
            patient=patient,
        )
        password = _password()
        account.set_password(password)
        account.save()
        PortalAccess.objects.create(account=account, patient=patient, sections=list(ALL_SECTIONS))
        signins.append(PortalSignIn("Patient", account.email or "", password, patient.display_name))
    parent = _parent_of_two(today)
    if parent is not None:
        signins.append(parent)
    return {"portal accounts": len(signins)}, signins


def _parent_of_two(today: date) -> PortalSignIn | None:
    """A caregiver of a minor, granted that child and a second child of the same family name."""
    minor_born_after = today.replace(year=today.year - 18)
    first = (
        Caregiver.objects.filter(
            patient__date_of_birth__gt=minor_born_after, patient__status=PatientStatus.ACTIVE
        )
        .select_related("patient")
        .order_by("pk")
        .first()
    )
    if first is None:
        return None
    second_child = (
        Patient.objects.filter(date_of_birth__gt=minor_born_after, status=PatientStatus.ACTIVE)
        .filter(~Q(pk=first.patient_id))
        .order_by("pk")
        .first()
    )
    email = first.email or f"{first.name.split()[0].lower()}.parent@example.com"
    account = PortalAccount(email=email.lower(), display_name=first.name.split()[0])
    password = _password()
    account.set_password(password)
    account.save()
    PortalAccess.objects.create(
        account=account, patient=first.patient, caregiver=first, sections=PARENT_SECTIONS, granted_by="demo"
    )
    children = [first.patient.display_name]
    if second_child is not None:
        caregiver = Caregiver.objects.create(
            patient=second_child,
            name=first.name,
            relationship=first.relationship,
            phone=first.phone,
            email=first.email,
            is_proxy=True,
            receives_appointments=True,
            receives_billing=True,
        )
        PortalAccess.objects.create(
            account=account,
            patient=second_child,
            caregiver=caregiver,
            sections=[PortalSection.APPOINTMENTS, PortalSection.MESSAGES, PortalSection.BILLING],
            granted_by="demo",
        )
        children.append(second_child.display_name)
    return PortalSignIn(
        "Caregiver", account.email or "", password, f"{first.name}, for {' and '.join(children)}"
    )


def portal_demo_passwords_reset() -> list[PortalSignIn]:
    """New random passwords for every demo portal account (the demo database holds no other)."""
    signins = []
    for account in PortalAccount.objects.order_by("pk"):
        password = _password()
        account.set_password(password)
        account.save(update_fields=["password"])
        label = "Patient" if account.patient_id else "Caregiver"
        signins.append(
            PortalSignIn(label, account.email or account.phone or "", password, account.display_name)
        )
    return signins
