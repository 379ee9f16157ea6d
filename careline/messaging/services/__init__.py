"""Messaging writes: inbound.py (webhooks and keywords), conversations.py (inbox actions), channels.py
(configuration), announcements.py. The send pipeline is the package careline.messaging.outbound."""
