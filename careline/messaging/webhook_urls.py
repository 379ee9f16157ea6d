"""Provider webhooks under /webhooks/<provider>/: each channel type's package supplies its views."""

from django.urls import URLPattern, path

from careline.messaging.channels.twilio import views as twilio_views

urlpatterns: list[URLPattern] = [
    path("twilio/messages", twilio_views.twilio_inbound, name="webhook-twilio-messages"),
    path("twilio/status", twilio_views.twilio_status, name="webhook-twilio-status"),
]
