"""The rows data migrations made, put back after every flush, so no test depends on the order tests run in.

A transactional test (`transactional_db`, `live_server`, browser and broker tests) ends with a flush that
empties every table, the rows data migrations inserted included: the care programs (care 0002, with their
measures), the urgent phrases (portal 0004), the default reminder rules (scheduling 0002, whose Spanish texts
scheduling 0005 moves into `translations`) and billing's follow-up steps (billing 0007). Run serially,
pytest-django runs transactional tests last, so only other transactional tests saw the empty tables; run in
parallel (pytest-xdist distributes whole files to each worker), one file's flush came before the next file's
ordinary tests.

Once per test session, right after the test database is migrated, every table that holds rows is read and
kept as serialized objects (Django's own serialization, as `serialized_rollback` keeps the whole database);
after each flush they are saved back with their primary keys and the sequences moved past them. The tables
are found, not listed, so a new data migration is covered by this without a change here. Content types and
permissions are left out: the flush's post_migrate signal creates them again, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import connections, models, router, transaction
from django.test import TransactionTestCase

# Made again by the flush's post_migrate signal (contenttypes and auth's own handlers).
REMADE_BY_POST_MIGRATE = frozenset({"contenttypes.contenttype", "auth.permission"})


class MigrationRows:
    """The serialized migration-made rows per database alias, and how often they were put back."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.models: dict[str, list[type[models.Model]]] = {}
        self.restores = 0

    def capture(self, alias: str) -> None:
        """Keep every row now in ALIAS's tables (call right after the test database is migrated)."""
        connection = connections[alias]
        app_list = [(config, None) for config in apps.get_app_configs() if config.models_module is not None]
        kept: list[type[models.Model]] = []
        for model in serializers.sort_dependencies(app_list):
            if model._meta.label_lower in REMADE_BY_POST_MIGRATE or model._meta.proxy:
                continue
            if not model._meta.managed or not router.allow_migrate_model(alias, model):
                continue
            if model._default_manager.using(alias).exists():
                kept.append(model)

        def objects() -> Iterator[Any]:
            for model in kept:
                yield from model._base_manager.using(alias).order_by(model._meta.pk.name).iterator()

        self.models[alias] = kept
        self.rows[alias] = serializers.serialize("json", objects()) if kept else ""
        connection.close_if_unusable_or_obsolete()

    def restore(self, alias: str) -> None:
        """Save the kept rows back into ALIAS's (just flushed) tables, then move sequences past their keys."""
        data = self.rows.get(alias)
        if not data:
            return
        connection = connections[alias]
        with transaction.atomic(using=alias):
            with connection.constraint_checks_disabled():
                for obj in serializers.deserialize("json", data, using=alias):
                    obj.save(using=alias)
            connection.check_constraints(table_names=[m._meta.db_table for m in self.models[alias]])
            statements = connection.ops.sequence_reset_sql(no_style(), self.models[alias])
            if statements:
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
        self.restores += 1

    def summary(self) -> str:
        tables = sorted({model._meta.label for kept in self.models.values() for model in kept})
        return f"migration-made rows ({', '.join(tables) or 'none'}) put back after {self.restores} flush(es)"


MIGRATION_ROWS = MigrationRows()


def restore_after_flush(monkeypatch: Any) -> None:
    """After each transactional test's flush, put the migration-made rows back (see the module's note)."""
    original = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]

    def _fixture_teardown(self: TransactionTestCase) -> None:
        original(self)
        for alias in self._databases_names(include_mirrors=False):  # type: ignore[attr-defined]
            MIGRATION_ROWS.restore(alias)

    monkeypatch.setattr(TransactionTestCase, "_fixture_teardown", _fixture_teardown)
