"""Reads shared by scheduling views and the API: free slots and the calendar (appointments.py), reminders (reminders.py), reports (reports.py)."""
