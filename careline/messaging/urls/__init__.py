"""Inbox, simulator and messaging administration pages."""

from django.urls import path

from careline.messaging.views import conversation as conversations
from careline.messaging.views import conversation_actions as actions
from careline.messaging.views import inbox, inbox_list, simulator

app_name = "messaging"

# The shared inbox and the phone simulator.
urlpatterns: list = [
    path("", inbox_list.inbox, name="inbox"),
    path("start", inbox.conversation_start, name="start"),
    path("segments", inbox.segments, name="segments"),
    path("notices", conversations.inbox_notices, name="inbox_notices"),
    path("simulator", simulator.simulator, name="simulator"),
    path("simulator/screen", simulator.simulator_thread, name="simulator_screen"),
    path("simulator/deliver-now", simulator.simulator_deliver_now, name="simulator_deliver_now"),
    path("media/p/<str:token>", inbox.media_public, name="media_public"),
    path("<int:pk>", conversations.conversation, name="conversation"),
    path("<int:pk>/thread", conversations.conversation_thread, name="thread"),
    path("<int:pk>/media/<str:name>", inbox.media, name="media"),
    path("<int:pk>/notes", actions.note_add, name="note_add"),
    path("<int:pk>/assign", actions.assign, name="assign"),
    path("<int:pk>/status", actions.status, name="status"),
    path("<int:pk>/tags", actions.tag_add, name="tag_add"),
    path("<int:pk>/tags/<int:tag_pk>/remove", actions.tag_remove, name="tag_remove"),
    path("<int:pk>/link", actions.link_patient, name="link_patient"),
    path("<int:pk>/opt-out", actions.opt_out, name="opt_out"),
    path("<int:pk>/dismiss", actions.dismiss, name="dismiss"),
    path("<int:pk>/flag", inbox_list.flag, name="flag"),
    path("<int:pk>/mark-unread", inbox_list.mark_unread, name="mark_unread"),
]

# Announcements, scheduled messages and messaging administration.
from careline.messaging.urls.manage import urlpatterns as manage_urlpatterns  # noqa: E402

urlpatterns += manage_urlpatterns
