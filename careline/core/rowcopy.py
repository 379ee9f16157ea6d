"""Insert many rows of one model fast: PostgreSQL's COPY, else the ORM's bulk insert.

For writes of thousands of rows per transaction (a statement run's chunk) where building a model instance
per row and Django's insert compilation cost more than the database does. Rows are tuples of plain values
(ints, strings, dates, aware datetimes, None) in the order of FIELDS (attnames: `statement_id`); every other
concrete column gets its field default (computed once per call). No model `save()`, no signals: use it only
for tables without save-time logic (the audit trail links its chain first, then writes through it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone


def _defaults(model: type[models.Model], given: set[str], connection: Any) -> list[tuple[str, Any]]:
    """(column, value) for each concrete column not in GIVEN and not the primary key."""
    now = timezone.now()
    out = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value: Any = now
        else:
            value = field.get_default()
        out.append((str(field.column), field.get_db_prep_save(value, connection)))
    return out


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    by_attname = {field.attname: str(field.column) for field in model._meta.concrete_fields}
    unknown = [name for name in fields if name not in by_attname]
    if unknown:
        raise ValueError(f"{model.__name__} has no column for {unknown}")
    return [by_attname[name] for name in fields]


def rows_copy(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *, ids: bool = False
) -> list[int]:
    """Insert ROWS (tuples in the order of FIELDS) into MODEL's table; their new ids, in order, when IDS.

    On PostgreSQL the ids are taken from the table's sequence first and the rows written with COPY; elsewhere
    the ORM's bulk_create does it. Call inside a transaction when the rows belong with other writes.
    """
    rows = [tuple(row) for row in rows]
    if not rows:
        return []
    columns = _columns(model, fields)
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        created = model._default_manager.using(using).bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=1_000
        )
        return [int(obj.pk) for obj in created] if ids else []
    defaults = _defaults(model, set(fields), connection)
    table = model._meta.db_table
    pk_column = str(model._meta.pk.column)
    qn = connection.ops.quote_name
    new_ids: list[int] = []
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk_column, len(rows)],
            )
            new_ids = [int(row[0]) for row in cursor.fetchall()]
        names = ([pk_column] if ids else []) + columns + [column for column, _ in defaults]
        tail = tuple(value for _, value in defaults)
        sql = f"COPY {qn(table)} ({', '.join(qn(name) for name in names)}) FROM STDIN"
        raw = cursor.cursor  # Django's wrapper over psycopg's cursor
        # Errors raised by the raw cursor become Django's (IntegrityError for a duplicate key), as elsewhere.
        with connection.wrap_database_errors, raw.copy(sql) as copy:
            if ids:
                for pk, row in zip(new_ids, rows, strict=True):
                    copy.write_row((pk, *row, *tail))
            else:
                for row in rows:
                    copy.write_row((*row, *tail))
    return new_ids


def rows_copy_new(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ROWS (as in rows_copy) except those a unique constraint already holds; how many were inserted.

    On PostgreSQL the rows are copied into a temporary table, then moved with one INSERT ... ON CONFLICT DO
    NOTHING (COPY itself cannot skip a conflicting row); elsewhere bulk_create(ignore_conflicts=True) does it
    and the count is of the rows offered (SQLite does not say how many it skipped).
    """
    rows = [tuple(row) for row in rows]
    if not rows:
        return 0
    columns = _columns(model, fields)
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        model._default_manager.using(using).bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows],
            batch_size=1_000,
            ignore_conflicts=True,
        )
        return len(rows)
    defaults = _defaults(model, set(fields), connection)
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    stage = qn(f"careline_stage_{model._meta.db_table}")
    names = ", ".join(qn(name) for name in columns + [column for column, _ in defaults])
    tail = tuple(value for _, value in defaults)
    # No savepoint: an error aborts the caller's transaction anyway; the staging table goes at its commit.
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        create = f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608 - names from the model
        cursor.execute(f"DROP TABLE IF EXISTS {stage}; {create}")
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row((*row, *tail))
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING")  # noqa: S608 - names from the model
        inserted = int(cursor.rowcount)
    return inserted


# Field classes whose Python values psycopg writes as they are (the ORM's preparation would not change them).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DateField,  # and DateTimeField: aware datetimes (USE_TZ)
    models.ForeignKey,  # its attname: the related row's id
)


def objects_copy(objs: Sequence[models.Model]) -> None:
    """Insert unsaved OBJS (instances of one model) and give them their ids, as bulk_create does: with COPY on
    PostgreSQL (no insert compilation per row), elsewhere bulk_create itself.

    Every concrete column is written from the instance (foreign keys by their ids; auto_now and auto_now_add
    fields set to now first; JSON and other non-plain fields prepared by the field). Like bulk_create: no
    save(), no signals, so only for models without save-time logic.
    """
    if not objs:
        return
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        model._default_manager.using(using).bulk_create(objs, batch_size=1_000)
        return
    now = timezone.now()
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                setattr(obj, field.attname, now)
    plain = [field.attname for field in fields if isinstance(field, _PLAIN_FIELDS)]
    prepared = [field for field in fields if not isinstance(field, _PLAIN_FIELDS)]
    rows = [
        (
            *(getattr(obj, name) for name in plain),
            *(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in prepared),
        )
        for obj in objs
    ]
    ids = rows_copy(model, plain + [field.attname for field in prepared], rows, ids=True)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
