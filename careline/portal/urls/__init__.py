"""The patient portal's routes (namespace ``portal``): one module per area, each a list of patterns."""

from django.urls import URLPattern, URLResolver

from careline.portal.urls import (
    account,
    appointments,
    billing,
    care,
    help_chat,
    messages,
    profile,
    records,
    signin,
)

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    *account.urlpatterns,
    *signin.urlpatterns,
    *appointments.urlpatterns,
    *messages.urlpatterns,
    *records.urlpatterns,
    *billing.urlpatterns,
    *care.urlpatterns,
    *help_chat.urlpatterns,
    *profile.urlpatterns,
]
