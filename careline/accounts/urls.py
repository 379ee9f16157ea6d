from django.urls import path

from careline.accounts.views import signin as views
from careline.accounts.views import staff as admin_views

app_name = "accounts"

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("mfa/verify", views.mfa_verify, name="mfa_verify"),
    path("mfa/setup", views.mfa_setup, name="mfa_setup"),
    path("profile", views.profile, name="profile"),
    path("staff", admin_views.staff_list, name="staff_list"),
    path("staff/new", admin_views.staff_create, name="staff_create"),
    path("staff/<int:pk>", admin_views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/mfa-reset", admin_views.staff_mfa_reset, name="staff_mfa_reset"),
    path("staff/<int:pk>/unlock", admin_views.staff_unlock, name="staff_unlock"),
    path("api-tokens", admin_views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke", admin_views.api_token_revoke, name="api_token_revoke"),
]
