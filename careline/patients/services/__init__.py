"""Writes that span rows: registry.py (patients, phones, preferences, consent, caregivers), notes.py, imports.py."""
