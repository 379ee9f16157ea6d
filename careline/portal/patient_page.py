"""The "Patient portal" card of the staff patient page: whether the patient signs in, and the buttons.

Front desk and administrators (PORTAL_INVITE) see the status and invite, re-send, lock, unlock or sign the
account out everywhere. Those who edit the patient's record without that permission (clinicians) see the
status only, to answer "is this patient on the portal?"; billing sees no card.
"""

from __future__ import annotations

from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.messaging.outbound.policy import patient_sms_number
from careline.patients.models import Patient
from careline.portal.models import ContactChannel, PortalAccount, PortalInvitation
from careline.portal.services.delivery import delivery_of
from careline.portal.services.invitations import invitation_channel_for

STATUS_LABELS = {
    "active": "Active",
    "locked": "Locked",
    "invited": "Invited",
    "invitation_locked": "Invitation locked (wrong answers)",
    "expired": "Invitation expired",
    "not_invited": "Not invited",
}


def portal_status(patient: Patient) -> dict[str, Any]:
    """The patient's portal status, account and latest invitation (two queries)."""
    account = PortalAccount.objects.filter(patient=patient).first()
    invitation = (
        PortalInvitation.objects.filter(patient=patient)
        .select_related("message")
        .order_by("-created_at", "-pk")
        .first()
    )
    if account is not None and account.password:
        status = "locked" if account.locked_at or not account.is_active else "active"
    elif invitation is not None and invitation.accepted_at is None:
        status = {"invited": "invited", "locked": "invitation_locked"}.get(invitation.status, "expired")
    else:
        status = "not_invited"
    return {
        "status": status,
        "status_label": STATUS_LABELS[status],
        "account": account,
        "invitation": invitation,
    }


def portal_section_context(user: Any, patient: Patient) -> dict[str, Any] | None:
    """The card's values for USER, or None for those who see no card."""
    manages = has_perm(user, Perm.PORTAL_INVITE)
    if not manages and not has_perm(user, Perm.PATIENT_EDIT):
        return None
    values = portal_status(patient)
    invitation = values["invitation"]
    values["manages"] = manages
    values["delivery"] = (
        delivery_of(invitation.message)
        if invitation is not None and invitation.message is not None and invitation.accepted_at is None
        else None
    )
    if manages:
        channels = []
        if patient_sms_number(patient):
            channels.append((ContactChannel.SMS.value, "Text message"))
        if patient.email:
            channels.append((ContactChannel.EMAIL.value, "Email"))
        values["channels"] = channels
        values["preferred_channel"] = invitation_channel_for(patient)
    return values
