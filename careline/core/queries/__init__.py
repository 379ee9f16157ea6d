"""Reads of core pages: the audit trail list and export (audit.py)."""
