"""manage.py import_patients FILE.csv: check every row, then import all patients or none."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.models import AuditChannel
from careline.patients.services import imports

HELP = """Import patients from a UTF-8 CSV file with a header row. Every row is checked first; if any row
has a problem, nothing is imported, the problems are listed by row and column (the header is row 1) and the
command exits with status 1. Otherwise all patients are created in one transaction.

Columns (* required): mrn*, first_name*, last_name*, preferred_name, date_of_birth* (YYYY-MM-DD or
MM/DD/YYYY), sex (female/male/other/unknown), pronouns, language (en/es), phone, phone_kind
(mobile/landline/unknown), email, address_line1, address_line2, city, region, postal_code, location* (a
location's name), sms_consent (yes/no/blank; needs a phone)."""


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

        def report(stage: str) -> imports.Progress:
            def progress(done: int, total: int) -> None:
                self.stdout.write(f"{stage}: {done}/{total} rows")

            return progress

        result = imports.import_check(data=data, progress=report("Checked"))
        if result.errors:
            for error in result.errors:
                where = "file" if error["row"] is None else f"row {error['row']}"
                column = f", column {error['column']}" if error["column"] else ""
                self.stderr.write(f"{where}{column}: {error['message']}")
            raise CommandError(f"{len(result.errors)} problem(s) found; nothing was imported.")
        actor = Actor.system("manage.py import_patients", channel=AuditChannel.COMMAND)
        created = imports.import_apply(rows=result.rows, actor=actor, progress=report("Imported"))
        audit_record(
            action=AuditAction.IMPORT, actor=actor,
            object_type="patients.import", object_id=path.name[:64],
            detail=f"CSV import from the command line: {created} patients created",
        )  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"Imported {created} patients."))
