"""Messaging writes: inbound.py (webhooks and keywords), conversations.py (inbox actions), channels.py
(configuration), announcements.py, simulator.py (the phone simulator's delivery reports and typed answers). The send pipeline is the package careline.messaging.outbound."""
