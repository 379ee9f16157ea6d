"""Input validation for the patient pages: registry forms (registry.py), notes.py, handoff.py, imports.py."""
