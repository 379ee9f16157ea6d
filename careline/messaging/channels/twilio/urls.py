"""Twilio's webhooks, mounted by the channel-type registry under /webhooks/twilio/."""

from __future__ import annotations

from django.urls import path

from careline.messaging.channels.twilio import views

urlpatterns = [
    path("messages", views.twilio_inbound, name="webhook-twilio-messages"),
    path("status", views.twilio_status, name="webhook-twilio-status"),
]
