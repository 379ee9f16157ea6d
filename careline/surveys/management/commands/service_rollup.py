"""Bring the Service report's rolled-up rows up to date, or derive them all again (--rebuild)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from careline.surveys.services.service_rollup import service_rollup_rebuild, service_rollup_refresh


class Command(BaseCommand):
    help = (
        "Roll up the Service report's figures: what changed since the last run, or everything with --rebuild."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Derive every conversation's rows again")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            counts = service_rollup_rebuild()
        else:
            while (counts := service_rollup_refresh()).get("more"):
                pass
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
