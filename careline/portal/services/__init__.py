"""Writes of the patient portal: invitations, one-time codes, sign-in limits and trusted devices."""
