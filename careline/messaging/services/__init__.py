"""Messaging writes: outbound.py (the one send pipeline), inbound.py (webhooks and keywords),
conversations.py (inbox actions), channels.py (configuration), announcements.py."""
