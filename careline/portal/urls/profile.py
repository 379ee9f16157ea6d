"""Portal routes: the Profile, sharing the record with caregivers, and installing the portal on a phone."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import caregivers, install, profile

urlpatterns: list[URLPattern | URLResolver] = [
    path("profile/", profile.profile, name="profile"),
    path("profile/contact", profile.profile_contact, name="profile_contact"),
    path("profile/password", profile.profile_password, name="profile_password"),
    path("profile/language", profile.profile_language, name="profile_language"),
    path("profile/preferences", profile.profile_preferences, name="profile_preferences"),
    path("profile/consent", profile.profile_consent, name="profile_consent"),
    path("profile/sign-out-everywhere", profile.signout_everywhere, name="signout_everywhere"),
    path("caregivers/", caregivers.caregivers, name="caregivers"),
    path("caregivers/grant", caregivers.caregiver_grant, name="caregiver_grant"),
    path("caregivers/revoke", caregivers.caregiver_revoke, name="caregiver_revoke"),
    path("join/<str:token>", caregivers.caregiver_join_link, name="caregiver_join"),
    path("join/", caregivers.caregiver_join, name="caregiver_join_page"),
    path("manifest.webmanifest", install.manifest, name="manifest"),
    path("sw.js", install.service_worker, name="service_worker"),
]
