"""`manage.py audit_verify`: check the audit trail's hash chain and name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from careline.core.audit_chain import audit_chain_verify


class Command(BaseCommand):
    help = "Check that no audit entry was removed, inserted or changed (exit status 1 if one was)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="Database alias (default: default).")
        parser.add_argument(
            "--expect",
            metavar="SEQ:HASH",
            help="A last entry and hash printed by an earlier run: check the chain still passes through it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify(using=options["database"])
        broken = report.first_break
        if broken is not None:
            where = f"entry #{broken.seq}"
            if broken.entry_id is not None:
                where += f" (id {broken.entry_id}, written {broken.at:%Y-%m-%d %H:%M:%S} UTC)"
            raise CommandError(
                f"Audit trail broken at {where}: {broken.reason}. "
                f"The {report.checked} entries before it are intact."
            )
        if options["expect"]:
            self._check_expected(options["expect"], options["database"])
        # The last hash lets an operator notice later removal of the newest entries: keep it elsewhere
        # and check that a later run still passes through it.
        self.stdout.write(
            f"Audit trail intact: {report.checked} entries; last {report.head_seq}:{report.head_hash}"
        )

    def _check_expected(self, expected: str, database: str) -> None:
        from careline.core.models import AuditEntry

        seq, _, entry_hash = expected.lstrip("#").partition(":")
        if not seq.isdigit() or len(entry_hash) != 64:
            raise CommandError("--expect takes SEQ:HASH as printed by an earlier run, e.g. 1200:9f86d0...")
        if not AuditEntry.objects.using(database).filter(seq=int(seq), entry_hash=entry_hash).exists():
            raise CommandError(
                f"Audit trail broken: entry #{seq} no longer has the hash recorded earlier "
                "(entries after it were removed, or the chain was rewritten)."
            )
