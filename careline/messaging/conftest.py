"""Messaging fixtures for every test under careline/messaging: the loopback Twilio double and a channel on it."""

from careline.messaging.testing.fixtures import twilio_channel, twilio_double

__all__ = ["twilio_channel", "twilio_double"]
