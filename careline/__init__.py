"""Careline: patient communication for clinics."""

from careline.celery import app as celery_app

__all__ = ("celery_app",)
