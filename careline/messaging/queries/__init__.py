"""Reads shared by messaging views and the API: the inbox (inbox.py); announcements, scheduled texts and a patient's messages (outbox.py)."""
