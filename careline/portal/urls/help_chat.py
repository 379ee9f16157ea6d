"""Portal routes: the help chat."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import help_chat

urlpatterns: list[URLPattern | URLResolver] = [
    path("help/", help_chat.help_chat, name="help"),
]
