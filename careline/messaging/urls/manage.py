"""Routes of the announcement, scheduled-message and messaging administration pages (under /inbox/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from careline.messaging.views import admin, announcements, scheduled

urlpatterns: list[URLPattern] = [
    path("announcements/", announcements.announcement_list, name="announcement_list"),
    path("announcements/new", announcements.announcement_new, name="announcement_new"),
    path("announcements/<int:pk>/", announcements.announcement_detail, name="announcement_detail"),
    path(
        "announcements/<int:pk>/progress",
        announcements.announcement_progress_partial,
        name="announcement_progress",
    ),
    path("scheduled/", scheduled.scheduled_list, name="scheduled_list"),
    path("scheduled/<int:pk>/edit", scheduled.scheduled_edit, name="scheduled_edit"),
    path("scheduled/<int:pk>/cancel", scheduled.scheduled_cancel, name="scheduled_cancel"),
    path("settings/channels/", admin.channel_list, name="channel_list"),
    path("settings/channels/new/<slug:type_code>", admin.channel_create, name="channel_create"),
    path("settings/channels/<int:pk>/", admin.channel_edit, name="channel_edit"),
    path("settings/saved-replies/", admin.saved_reply_list, name="saved_reply_list"),
    path("settings/saved-replies/new", admin.saved_reply_create, name="saved_reply_create"),
    path("settings/saved-replies/<int:pk>/", admin.saved_reply_edit, name="saved_reply_edit"),
    path("settings/saved-replies/<int:pk>/delete", admin.saved_reply_delete, name="saved_reply_delete"),
    path("settings/policies/", admin.policy_list, name="policy_list"),
    path("settings/policies/<int:location_id>/", admin.policy_edit, name="policy_edit"),
]
