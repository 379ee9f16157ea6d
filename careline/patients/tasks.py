"""Celery tasks of the patients app: each takes a row id and calls a service."""

from __future__ import annotations

from celery import shared_task

from careline.patients.services.imports import patient_import_process


@shared_task(name="patients.patient_import_run")
def patient_import_run(import_id: int) -> None:
    """Check and import the CSV upload IMPORT_ID (a repeated delivery finds it claimed and does nothing)."""
    patient_import_process(import_id=import_id)
