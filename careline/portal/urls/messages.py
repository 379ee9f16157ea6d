"""Portal routes: secure messages with the care team."""

from django.urls import URLPattern, URLResolver, path

from careline.portal.views import messages

urlpatterns: list[URLPattern | URLResolver] = [
    path("messages/", messages.messages, name="messages"),
    path("messages/<int:pk>/", messages.message_thread, name="message_thread"),
    path("messages/<int:pk>/files/<str:name>", messages.message_file, name="message_file"),
]
