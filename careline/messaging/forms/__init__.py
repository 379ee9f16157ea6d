"""Input validation of the messaging pages: inbox and simulator (inbox.py); announcements, scheduled texts and administration (manage.py)."""
