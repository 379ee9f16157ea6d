"""Messaging pages."""
