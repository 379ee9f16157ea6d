from django.urls import path

from careline.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("mfa/verify", views.mfa_verify, name="mfa_verify"),
    path("mfa/setup", views.mfa_setup, name="mfa_setup"),
    path("profile", views.profile, name="profile"),
    path("staff", views.staff_list, name="staff_list"),
]
