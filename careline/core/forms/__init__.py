"""Input validation of core pages: the audit trail filters (audit.py)."""
