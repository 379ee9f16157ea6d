from django.urls import path

from careline.accounts.views import signin, staff

app_name = "accounts"

urlpatterns = [
    path("login", signin.login_view, name="login"),
    path("logout", signin.logout_view, name="logout"),
    path("mfa/verify", signin.mfa_verify, name="mfa_verify"),
    path("mfa/setup", signin.mfa_setup, name="mfa_setup"),
    path("profile", signin.profile, name="profile"),
    path("staff", staff.staff_list, name="staff_list"),
    path("staff/new", staff.staff_create, name="staff_create"),
    path("staff/<int:pk>", staff.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/mfa-reset", staff.staff_mfa_reset, name="staff_mfa_reset"),
    path("staff/<int:pk>/unlock", staff.staff_unlock, name="staff_unlock"),
    path("api-tokens", staff.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke", staff.api_token_revoke, name="api_token_revoke"),
]
