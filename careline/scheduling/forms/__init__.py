"""Input validation of the scheduling pages: appointments, slots, waitlist and administration (appointments.py); reminder rules (reminders.py)."""
