"""Scheduling writes: appointments.py (book, move, cancel, ...), reminders.py (planning, sending, notices),
replies.py (patients' text replies), waitlist.py (offers of freed slots)."""
