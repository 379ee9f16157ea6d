"""Lift a staff member's sign-in lock (wrong passwords or codes) from the command line; audited."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from careline.accounts.models import User
from careline.accounts.services import account_unlock
from careline.core.actor import Actor
from careline.core.audit import AuditChannel


class Command(BaseCommand):
    help = "Unlock sign-in for the staff member with EMAIL, from every address, and reset their code delay."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="Email address of the staff member")
        parser.add_argument(
            "--address",
            action="append",
            default=[],
            help="Also lift the lock on this client address (all accounts); may be repeated",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["email"]).strip()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No staff account has the email address {email!r}.")
        addresses = [str(address).strip() for address in options["address"]]
        cleared = account_unlock(
            user=user,
            actor=Actor.system("manage.py unlock_account", channel=AuditChannel.COMMAND),
            addresses=addresses,
        )
        self.stdout.write(f"{user.email} can sign in again ({cleared} failure record(s) cleared).")
