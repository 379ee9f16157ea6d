"""Staff pages: sign-in, MFA and profile (signin.py); staff and API token administration (staff.py)."""
