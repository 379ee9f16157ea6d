"""Print the demo clinic's sign-ins again (they scroll away under the workers' log lines of `make run`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careline.demo.services import signins_path


class Command(BaseCommand):
    help = (
        "Print the demo accounts, their passwords and the administrator's TOTP secret (var/demo-signins.txt)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        path = signins_path()
        if not path.exists():
            raise CommandError(
                f"No demo sign-ins at {path}: load the demo with `manage.py seed_demo`, or give the demo "
                "accounts new passwords with `manage.py seed_demo --reset-passwords`."
            )
        self.stdout.write(path.read_text())
