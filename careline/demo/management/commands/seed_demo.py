"""Load the demo clinic (once): two locations, staff of every role, 200 patients and their notes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from careline.demo.services import DemoRefusedError, demo_clinic_load, demo_passwords_reset


class Command(BaseCommand):
    help = (
        "Load the demo clinic with made-up patients. Does nothing when it is already loaded; refuses to run "
        "when CARELINE_ENV=production. Sign-ins (random passwords, the admin's TOTP secret) go to "
        "var/demo-signins.txt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=200, help="How many patients (default 200)")
        parser.add_argument("--notes", type=int, default=300, help="How many care notes (default 300)")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo accounts new passwords and the admin a new TOTP secret, and rewrite the file",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 1 or options["notes"] < 0:
            raise CommandError("--patients must be at least 1 and --notes at least 0")
        try:
            if options["reset_passwords"]:
                summary = demo_passwords_reset()
                self.stdout.write(f"New demo passwords written to {summary.signins_path}")
                return
            summary = demo_clinic_load(patients=options["patients"], notes=options["notes"])
        except DemoRefusedError as exc:
            raise CommandError(str(exc)) from None
        if not summary.created:
            self.stdout.write(
                f"The demo clinic is already loaded; nothing changed. Sign-ins: {summary.signins_path} "
                "(lost it? run seed_demo --reset-passwords)"
            )
            return
        made = ", ".join(f"{count} {name}" for name, count in summary.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo clinic loaded: {made}."))
        self.stdout.write(f"Sign-ins (passwords and the admin's TOTP secret): {summary.signins_path}")
