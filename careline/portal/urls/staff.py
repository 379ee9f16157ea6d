"""Staff pages that manage the portal (namespace ``portal_admin``): access, FAQ, urgent words."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import staff_caregivers

app_name = "portal_admin"

urlpatterns: list[URLPattern | URLResolver] = [
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
