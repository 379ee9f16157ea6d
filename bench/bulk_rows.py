"""Bulk inserts for the benchmarks' seeds: model instances in large batches, or rows with no instance each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models

BATCH = 20_000  # rows handed to one bulk_create or executemany call


@contextmanager
def historic_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the past times the seed sets (auto_now_add would stamp every row with now)."""
    changed = []
    for model in model_classes:
        for each in model._meta.concrete_fields:
            if isinstance(each, models.DateField) and (each.auto_now or each.auto_now_add):
                changed.append((each, each.auto_now, each.auto_now_add))
                each.auto_now = each.auto_now_add = False
    try:
        yield
    finally:
        for each, auto_now, auto_now_add in changed:
            each.auto_now, each.auto_now_add = auto_now, auto_now_add


def bulk_insert(model: type[models.Model], rows: Iterator[Any]) -> int:
    """Insert ROWS (model instances, made lazily) in batches; how many were inserted."""
    count = 0
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_create(batch)  # type: ignore[attr-defined]
            count += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)  # type: ignore[attr-defined]
        count += len(batch)
    return count


class FastRows:
    """Rows of MODEL inserted without a model instance each: a multi-row INSERT on SQLite, COPY on PostgreSQL.

    For the million-row tables, where bulk_create's per-field work would take most of the seed. The columns
    come from the model, and every field a row does not give takes its value from one instance built with
    FIXED (so a field added later with a default is filled, as bulk_create would).
    """

    def __init__(self, model: type[models.Model], **fixed: Any) -> None:
        prototype = model(**fixed)
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.index = {f.attname: n for n, f in enumerate(self.fields)}
        self.base = [f.get_db_prep_save(f.pre_save(prototype, add=True), connection) for f in self.fields]
        self.datetimes = {f.attname for f in self.fields if isinstance(f, models.DateTimeField)}
        unique_defaults = [
            f.name for f in self.fields if f.unique and f.has_default() and f.attname not in fixed
        ]
        if unique_defaults:
            raise ValueError(
                f"FastRows cannot share the default of unique fields {unique_defaults}: give them"
            )

    def row(self, values: dict[str, Any]) -> list[Any]:
        """The database values of one row: VALUES (by attribute name, e.g. conversation_id) over the defaults."""
        row = self.base.copy()
        adapt = connection.ops.adapt_datetimefield_value
        for name, value in values.items():
            row[self.index[name]] = adapt(value) if name in self.datetimes and value is not None else value
        return row

    def insert(self, rows: Iterator[list[Any]]) -> int:
        """Insert ROWS (from `row`); how many."""
        quote = connection.ops.quote_name
        table, columns = (
            quote(self.model._meta.db_table),
            ", ".join(quote(str(f.column)) for f in self.fields),
        )
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                return count
            statement = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(self.fields))})"  # noqa: S608 - names from the model
            batch: list[list[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    cursor.executemany(statement, batch)
                    count, batch = count + len(batch), []
            if batch:
                cursor.executemany(statement, batch)
                count += len(batch)
        return count
