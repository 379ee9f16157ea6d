"""`make run`: migrate, load the demo clinic into an empty database, then run web + worker + scheduler."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from careline.accounts.models import User
from careline.demo.launcher import Supervisor, platform_address, platform_children, port_accepting
from careline.demo.services import signins_path
from careline.patients.models import Patient

STARTUP_SETTLE_SECONDS = 4.0


class Command(BaseCommand):
    help = (
        "Run Careline on one machine: migrate, load the demo clinic when the database is empty, then start "
        "the web server (gunicorn), a Celery worker and the beat scheduler until Ctrl-C."
    )
    requires_system_checks = []  # migrate runs the checks itself

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=1)
        if not settings.PRODUCTION and not Patient.objects.exists() and not User.objects.exists():
            call_command("seed_demo")
        self.stdout.write("run_platform: starting the web server, the worker and the scheduler")
        self.stdout.flush()
        supervisor = Supervisor(
            platform_children(
                port=settings.PORT,
                var_dir=Path(settings.VAR_DIR),
                # LOG_LEVEL=debug shows every task; otherwise only the worker's warnings and errors.
                task_log_level="debug" if settings.LOG_LEVEL == "DEBUG" else "warning",
            ),
            say=lambda text: self.stdout.write(f"run_platform: {text}"),
            ready=lambda: port_accepting(settings.PORT),
            on_ready=self._announce,
            # The worker and the scheduler log their banners for a few seconds after the web server listens.
            settle_seconds=STARTUP_SETTLE_SECONDS,
        )
        previous = {
            sig: signal.signal(sig, supervisor.handle_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            status = supervisor.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if status:
            raise CommandError(
                f"{supervisor.failure or 'a Careline process stopped unexpectedly'}; everything was shut down",
                returncode=status,
            )
        self.stdout.write("run_platform: stopped")

    def _announce(self) -> None:
        """The address and the demo sign-ins, printed once everything has started (so they come last)."""
        self.stdout.write("")
        address = platform_address()
        self.stdout.write(self.style.SUCCESS(f"Careline is running at {address}  (Ctrl-C stops everything)"))
        path: Path = signins_path()
        if path.exists():
            self.stdout.write(f"\nDemo sign-ins, from {path}:\n")
            self.stdout.write(path.read_text())
            self.stdout.write("\nShow them again at any time: .venv/bin/python manage.py demo_signins\n")
        self.stdout.flush()
