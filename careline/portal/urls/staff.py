"""Staff pages that manage the portal (namespace ``portal_admin``): caregiver access, the help chat's FAQ and urgent words."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import staff, staff_caregivers, staff_invitations

app_name = "portal_admin"

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/<int:pk>/invite", staff_invitations.invite, name="invite"),
    path("patients/<int:pk>/lock", staff_invitations.lock, name="lock"),
    path("patients/<int:pk>/unlock", staff_invitations.unlock, name="unlock"),
    path("patients/<int:pk>/sign-out", staff_invitations.sign_out, name="sign_out"),
    path("invitations", staff_invitations.bulk, name="invite_bulk"),
    path("invitations/<int:pk>", staff_invitations.invite_batch, name="invite_batch"),
    path("faq/", staff.faq_list, name="faq_list"),
    path("faq/new", staff.faq_create, name="faq_create"),
    path("faq/<int:pk>/", staff.faq_edit, name="faq_edit"),
    path("faq/<int:pk>/delete", staff.faq_delete, name="faq_delete"),
    path("urgent-words/", staff.urgent_list, name="urgent_list"),
    path("urgent-words/<int:pk>/delete", staff.urgent_delete, name="urgent_delete"),
    path(
        "patients/<int:pk>/caregivers/<int:caregiver_pk>/grant",
        staff_caregivers.caregiver_grant,
        name="caregiver_grant",
    ),
    path(
        "patients/<int:pk>/caregivers/<int:caregiver_pk>/revoke",
        staff_caregivers.caregiver_revoke,
        name="caregiver_revoke",
    ),
]
