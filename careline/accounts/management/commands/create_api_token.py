"""Create an API token for a staff member and print it (only the token, so scripts can capture it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from careline.accounts.models import User
from careline.accounts.services import StaffRuleError, api_token_create
from careline.core.actor import Actor
from careline.core.audit import AuditChannel


class Command(BaseCommand):
    help = "Create an API token acting as the staff member with EMAIL; prints the token once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="Email address of an active staff member")
        parser.add_argument("--name", default="Command line", help="What will use the token, e.g. 'EHR sync'")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Days until the token stops working (default: never)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["email"]).strip()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No staff account has the email address {email!r}.")
        if not user.is_active:
            raise CommandError(
                f"The staff account {user.email} is deactivated; activate it before creating a token."
            )
        try:
            _, secret = api_token_create(
                user=user,
                name=str(options["name"]),
                actor=Actor.system("manage.py create_api_token", channel=AuditChannel.COMMAND),
                expires_in_days=options["expires_days"],
            )
        except StaffRuleError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(secret)
