"""Roles and what each may do: the one place where permissions are defined.

Views and API routes check a `Perm`, never a role name, so changing what a role may do is a one-line edit
here. A person may hold several roles; they get the union of the roles' permissions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    pass


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    FRONT_DESK = "front_desk", "Front desk"
    CLINICIAN = "clinician", "Clinician"
    BILLING = "billing", "Billing"
    CHARGE_NURSE = "charge_nurse", "Charge nurse"


class Perm(models.TextChoices):
    PATIENT_VIEW = "patient.view", "See patients of one's locations"
    PATIENT_VIEW_ALL_LOCATIONS = "patient.view_all_locations", "See patients of every location"
    PATIENT_CREATE = "patient.create", "Register patients"
    PATIENT_EDIT = "patient.edit", "Edit demographics, preferences and caregivers"
    PATIENT_IMPORT = "patient.import", "Import patients from CSV"
    CONSENT_RECORD = "consent.record", "Record text-message consent or opt-out"
    NOTE_VIEW = "note.view", "Read non-clinical care notes"
    NOTE_VIEW_CLINICAL = "note.view_clinical", "Read clinical notes"
    NOTE_ADD = "note.add", "Add and amend care notes and alerts"
    HANDOFF_VIEW = "handoff.view", "Use the shift handoff view"
    AUDIT_VIEW = "audit.view", "Search and export the audit trail"
    STAFF_MANAGE = "staff.manage", "Manage staff accounts and roles"
    LOCATION_MANAGE = "location.manage", "Manage locations and opening hours"
    API_TOKEN_MANAGE = "api_token.manage", "Create and revoke API tokens"
    INBOX_VIEW = "inbox.view", "Read conversations of one's locations"
    INBOX_SEND = "inbox.send", "Text patients, add internal notes, assign and close conversations"
    MESSAGE_URGENT = (
        "message.urgent",
        "Send a text marked urgent outside quiet hours (with a reason, audited)",
    )
    ANNOUNCEMENT_SEND = "announcement.send", "Send announcements to many patients"
    SAVED_REPLY_MANAGE = "saved_reply.manage", "Manage saved replies"
    CHANNEL_MANAGE = "channel.manage", "Configure channels and messaging policies"
    SIMULATOR_USE = "simulator.use", "Use the phone simulator (not in production)"
    SCHEDULE_VIEW = "schedule.view", "See the calendar and appointments of one's locations"
    SCHEDULE_BOOK = "schedule.book", "Book, move, cancel and check in appointments; manage the waitlist"
    SCHEDULE_MANAGE = "schedule.manage", "Manage appointment types, clinicians' hours and reminder rules"
    REPORT_VIEW = "report.view", "See reminder and no-show reports"
    PORTAL_INVITE = (
        "portal.invite",
        "Invite patients to the portal; lock, unlock and sign out their portal account",
    )
    PORTAL_HELP_MANAGE = "portal_help.manage", "Manage the portal help chat's answers and urgent words"
    BILLING_VIEW = "billing.view", "See patients' balances and billing ledgers (charges, claims, payments)"
    BILLING_RECORD = "billing.record", "Record charges, claims, payments, refunds, credits and write-offs"
    PAYMENT_TAKE = "payment.take", "Take a payment at the desk (and see the balance due)"
    BILLING_SELF_PAY = "billing.self_pay", "Mark a visit self-pay (its charges are wholly the patient's)"
    BILLING_CONFIGURE = "billing.configure", "Configure the collections follow-up sequence"
    RECORD_VIEW = "record.view", "Read clinical records and lab results"
    RECORD_EDIT = "record.edit", "Enter and amend clinical records, documents and lab results"
    RESULT_RELEASE = "result.release", "Release lab results to the patient"
    RESULT_RULE_MANAGE = "result.rule_manage", "Set release delays per test"
    ONCALL_VIEW = "oncall.view", "See the on-call rota and on-call pages of one's locations"
    ONCALL_ACKNOWLEDGE = "oncall.acknowledge", "Acknowledge an on-call page"
    ONCALL_MANAGE = "oncall.manage", "Edit the on-call rota (who is on call, and the backup)"
    CARE_VIEW = "care.view", "See care programs' readings, alerts and the nurses' worklist of one's locations"
    CARE_MANAGE = "care.manage", "Enrol patients in care programs, enter readings, work care alerts"
    CARE_ESCALATION = "care.escalation", "Receive escalated care alerts (the charge nurse)"
    CARE_PROGRAM_MANAGE = "care.program_manage", "Define care programs, their measures and thresholds"
    REFERRAL_DIRECTORY_VIEW = "referral.directory_view", "Read the directory of outside providers"
    REFERRAL_DIRECTORY_MANAGE = "referral.directory_manage", "Add and edit outside providers in the directory"
    REFERRAL_VIEW = (
        "referral.view",
        "See referrals of one's locations, follow them up and record their progress",
    )
    REFERRAL_CREATE = (
        "referral.create",
        "Refer patients to outside providers (and read the staff-only reason)",
    )
    OUTREACH_MANAGE = (
        "outreach.manage",
        "Define recall audiences, schedule recall campaigns and see their results; set birthday messages",
    )
    EDUCATION_MANAGE = "education.manage", "Write and upload education items; attach them to care programs"
    EDUCATION_SEND = "education.send", "Send education items to patients and their caregivers"
    METRICS_VIEW = (
        "metrics.view",
        "Read the operational metrics at /metrics (queue depth, lags, message counts)",
    )
    TRAINING_MANAGE = (
        "training.manage",
        "Write staff courses and protocols, assign them, see who is overdue and export completions",
    )


_CLINICIAN_PERMISSIONS = frozenset(
    {
        Perm.PATIENT_VIEW,
        Perm.PATIENT_EDIT,
        Perm.CONSENT_RECORD,
        Perm.NOTE_VIEW,
        Perm.NOTE_VIEW_CLINICAL,
        Perm.NOTE_ADD,
        Perm.HANDOFF_VIEW,
        Perm.INBOX_VIEW,
        Perm.INBOX_SEND,
        Perm.MESSAGE_URGENT,
        Perm.SIMULATOR_USE,
        Perm.SCHEDULE_VIEW,
        Perm.SCHEDULE_BOOK,
        # Clinical records go with clinical notes: clinicians (and administrators), never front desk or billing.
        Perm.RECORD_VIEW,
        Perm.RECORD_EDIT,
        Perm.RESULT_RELEASE,
        # Readings are clinical: clinicians (and administrators); front desk and billing only if granted.
        Perm.CARE_VIEW,
        Perm.CARE_MANAGE,
        Perm.ONCALL_VIEW,
        Perm.ONCALL_ACKNOWLEDGE,
        # Referring is a clinical decision (and the reason is clinical); following up is anyone's at the desk.
        Perm.REFERRAL_DIRECTORY_VIEW,
        Perm.REFERRAL_VIEW,
        Perm.REFERRAL_CREATE,
        Perm.EDUCATION_MANAGE,
        Perm.EDUCATION_SEND,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Perm.values),
    Role.FRONT_DESK: frozenset(
        {
            Perm.PATIENT_VIEW,
            Perm.PATIENT_CREATE,
            Perm.PATIENT_EDIT,
            Perm.PATIENT_IMPORT,
            Perm.CONSENT_RECORD,
            Perm.NOTE_VIEW,
            Perm.NOTE_ADD,
            Perm.HANDOFF_VIEW,
            Perm.INBOX_VIEW,
            Perm.INBOX_SEND,
            Perm.ANNOUNCEMENT_SEND,
            Perm.OUTREACH_MANAGE,
            Perm.SAVED_REPLY_MANAGE,
            Perm.SIMULATOR_USE,
            Perm.SCHEDULE_VIEW,
            Perm.SCHEDULE_BOOK,
            Perm.REPORT_VIEW,
            Perm.PORTAL_INVITE,
            Perm.PAYMENT_TAKE,
            # The desk answers the phone at night too: it needs to know who is on call.
            Perm.ONCALL_VIEW,
            # The desk chases referrals and tells patients whom to call (never the reason).
            Perm.REFERRAL_DIRECTORY_VIEW,
            Perm.REFERRAL_VIEW,
            Perm.EDUCATION_SEND,
        }
    ),
    Role.CLINICIAN: _CLINICIAN_PERMISSIONS,
    # A clinician who also receives care alerts nobody acknowledged in time.
    Role.CHARGE_NURSE: _CLINICIAN_PERMISSIONS | {Perm.CARE_ESCALATION},
    Role.BILLING: frozenset(
        {
            Perm.PATIENT_VIEW,
            Perm.NOTE_VIEW,
            Perm.NOTE_ADD,
            Perm.INBOX_VIEW,
            Perm.INBOX_SEND,
            Perm.SIMULATOR_USE,
            Perm.SCHEDULE_VIEW,
            Perm.BILLING_VIEW,
            Perm.BILLING_RECORD,
            Perm.PAYMENT_TAKE,
        }
    ),
}


class HasRoles(Protocol):
    is_authenticated: bool
    is_active: bool

    @property
    def role_codes(self) -> frozenset[str]: ...


def permissions_for_roles(roles: Iterable[str]) -> frozenset[str]:
    """The union of the permissions of ROLES."""
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def has_perm(user: Any, perm: str) -> bool:
    """Whether USER (a staff user, or anonymous) holds PERM through any of their roles."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return perm in permissions_for_roles(user.role_codes)


def check_perm(user: Any, perm: str) -> None:
    """Raise PermissionDenied (403) unless USER holds PERM."""
    if not has_perm(user, perm):
        raise PermissionDenied


V = TypeVar("V", bound=Callable[..., HttpResponse])


def require_perm(*perms: str) -> Callable[[V], V]:
    """View decorator: sign-in required (redirect), then every one of PERMS (else 403)."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            for perm in perms:
                check_perm(request.user, perm)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
