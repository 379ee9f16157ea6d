"""manage.py import_appointments FILE.csv: check every row, then import all appointments or none."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careline.core.actor import Actor
from careline.core.models import AuditChannel
from careline.scheduling.services import imports

HELP = """Import appointments from a practice-management CSV export (UTF-8, header row). Columns, all
required: external_id, mrn, clinician_email, location, appointment_type, date (YYYY-MM-DD or MM/DD/YYYY),
time (HH:MM local to the location), status (booked, confirmed, cancelled, cancelled_patient, checked_in,
completed, no_show). If any row has a problem nothing is imported, the problems are listed by row and
column (the header is row 1) and the command exits with status 1. An external_id already imported is not
imported again; only a changed status is applied."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            with path.open("rb") as handle:
                data = handle.read(settings.CARELINE_MAX_IMPORT_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        result = imports.appointment_import(
            data=data, actor=Actor.system("manage.py import_appointments", channel=AuditChannel.COMMAND)
        )
        if result.errors:
            for error in result.errors:
                where = "file" if error["row"] is None else f"row {error['row']}"
                column = f", column {error['column']}" if error["column"] else ""
                self.stderr.write(f"{where}{column}: {error['message']}")
            raise CommandError(f"{len(result.errors)} problem(s) found; nothing was imported.")
        self.stdout.write(self.style.SUCCESS(
            f"Imported {result.created} appointments; {result.updated} updated, {result.unchanged} unchanged."
        ))  # fmt: skip
