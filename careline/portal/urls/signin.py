"""Portal routes for getting in: invitations, one-time codes and password reset (all reached signed out)."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import signin

urlpatterns: list[URLPattern | URLResolver] = [
    path("invite/<str:token>/", signin.invite, name="invite"),
    path("invite-setup/", signin.invite_setup, name="invite_setup"),
    path("code/", signin.code_request, name="code"),
    path("code/enter/", signin.code_enter, name="code_enter"),
    path("reset/", signin.reset_request, name="reset"),
    path("reset/password/", signin.reset_password, name="reset_password"),
    path("sign-in-settings/", signin.security, name="security"),
]
