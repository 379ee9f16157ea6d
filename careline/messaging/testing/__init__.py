"""Test doubles for messaging providers (tests and the benchmark only; never the running app).

`careline.messaging.testing.twilio_double.TwilioDouble` is a loopback Twilio Messages API;
`careline.messaging.testing.fixtures` has the pytest fixtures and webhook-signing helpers.
"""
