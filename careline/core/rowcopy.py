"""Insert many rows of one model fast: PostgreSQL's COPY, else the ORM's bulk insert.

For writes of thousands of rows per transaction (a statement run's chunk) where building a model instance
per row and Django's insert compilation cost more than the database does. Rows are tuples of plain values
(ints, strings, dates, aware datetimes, None; lists and dicts for JSON fields) in the order of FIELDS
(attnames: `statement_id`); every other concrete column gets its field default (computed once per call). No
model `save()`, no signals: use it only for tables without save-time logic (the audit trail links its chain
first, then writes through it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import connections, models, router, transaction
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


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


def _adapters(model: type[models.Model], fields: Sequence[str]) -> list[tuple[int, Any]]:
    """(position, field) of the FIELDS whose Python values COPY cannot write as they are (JSON documents)."""
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    return [
        (position, by_attname[name])
        for position, name in enumerate(fields)
        if isinstance(by_attname[name], models.JSONField)
    ]


def _adapted(
    rows: list[Sequence[Any]], adapters: list[tuple[int, Any]], connection: Any
) -> list[Sequence[Any]]:
    if not adapters:
        return rows
    out: list[Sequence[Any]] = []
    for row in rows:
        values = list(row)
        for position, field in adapters:
            values[position] = field.get_db_prep_save(values[position], connection)
        out.append(values)
    return out


def _column_types(connection: Any, table: str) -> dict[str, int]:
    """Each column of TABLE with its type's oid (read once per table and connection)."""
    key = (connection.alias, table)
    if key not in _TYPES:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [connection.ops.quote_name(table)],
            )
            _TYPES[key] = {str(name): int(oid) for name, oid in cursor.fetchall()}
    return _TYPES[key]


_TYPES: dict[tuple[str, str], dict[str, int]] = {}


def rows_copy(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ids: bool = False,
    binary: bool = False,
) -> list[int]:
    """Insert ROWS (tuples in the order of FIELDS) into MODEL's table; their new ids, in order, when IDS.

    On PostgreSQL the ids are taken from the table's sequence first and the rows written with COPY; elsewhere
    the ORM's bulk_create does it. Call inside a transaction when the rows belong with other writes.
    BINARY: COPY in PostgreSQL's binary format, each value written as its column's type (a tenth of the
    client's CPU of the text format for timestamps); every value must then be of its column's Python type
    (an int for an integer column, an aware datetime for a timestamp), where the text format also takes a
    string that reads as one.
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
    rows = _adapted(rows, _adapters(model, fields), connection)
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
        if binary:
            sql += " (FORMAT BINARY)"
            types = _column_types(connection, table)
        raw = cursor.cursor  # Django's wrapper over psycopg's cursor
        # Errors raised by the raw cursor become Django's (IntegrityError for a duplicate key), as elsewhere.
        with connection.wrap_database_errors, raw.copy(sql) as copy:
            if binary:
                copy.set_types([types[name] for name in names])
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
    _, inserted, _ = _insert_new(model, fields, rows, returning=False)
    return inserted


def rows_copy_new_returning(model: type[M], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[M]:
    """Insert ROWS (as in rows_copy) except those a unique constraint already holds; the inserted rows.

    On PostgreSQL the inserted rows come back as instances (read from the INSERT's RETURNING, so they hold
    what the table holds); a row skipped for a conflict is not among them. Elsewhere the rows go through
    bulk_create(ignore_conflicts=True), which cannot say which were inserted: the result is empty and the
    caller reads the rows it needs.
    """
    connection, _, fetched = _insert_new(model, fields, rows, returning=True)
    if not fetched:
        return []
    concrete = model._meta.concrete_fields
    using = connection.alias
    attnames = [field.attname for field in concrete]
    converters = [
        (position, field) for position, field in enumerate(concrete) if field.get_db_converters(connection)
    ]
    instances = []
    for row in fetched:
        values = list(row)
        for position, field in converters:
            for converter in field.get_db_converters(connection):
                values[position] = converter(values[position], field, connection)
        instances.append(model.from_db(using, attnames, values))
    return instances


def _insert_new(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *, returning: bool
) -> tuple[Any, int, list[Sequence[Any]]]:
    """The work of rows_copy_new(_returning): (the connection, rows inserted, every column of each inserted
    row when RETURNING and on PostgreSQL). The connection is None when there was nothing to insert."""
    listed: list[Sequence[Any]] = [tuple(row) for row in rows]
    if not listed:
        return None, 0, []
    columns = _columns(model, fields)
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        model._default_manager.using(using).bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in listed],
            batch_size=1_000,
            ignore_conflicts=True,
        )
        return connection, len(listed), []
    adapted = _adapted(listed, _adapters(model, fields), connection)
    defaults = _defaults(model, set(fields), connection)
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    stage = qn(f"careline_stage_{model._meta.db_table}")
    names = ", ".join(qn(name) for name in columns + [column for column, _ in defaults])
    tail = tuple(value for _, value in defaults)
    returned = ", ".join(qn(str(field.column)) for field in model._meta.concrete_fields)
    suffix = f" RETURNING {returned}" if returning else ""
    # No savepoint: an error aborts the caller's transaction anyway; the staging table goes at its commit.
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        create = f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608 - names from the model
        cursor.execute(f"DROP TABLE IF EXISTS {stage}; {create}")
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy,
        ):
            for row in adapted:
                copy.write_row((*row, *tail))
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING{suffix}"  # noqa: S608 - names from the model
        )
        return connection, int(cursor.rowcount), (cursor.fetchall() if returning else [])


def rows_update(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    where: dict[str, Any] | None = None,
) -> int:
    """Set FIELDS of many rows of MODEL in one statement; how many rows were updated.

    Each row is (primary key, *values in the order of FIELDS), plain values of each column's Python type
    (JSON columns are not supported). WHERE: further conditions each updated row must meet, column -> value
    (None: IS NULL); a row that does not meet them is left as it is and not counted.

    On PostgreSQL one `UPDATE ... FROM unnest(<one array per column>)`: the values travel as arrays, so the
    statement is the same whatever the number of rows (Django's bulk_update compiles a CASE with a WHEN per
    row and field, which cost more client CPU than the database spent on the update). Elsewhere that CASE.
    """
    listed = [tuple(row) for row in rows]
    if not listed:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    targets = [by_attname[name] for name in _known(by_attname, fields)]
    conditions = where or {}
    checked = [by_attname[name] for name in _known(by_attname, list(conditions))]
    if any(isinstance(field, models.JSONField) for field in targets):
        raise ValueError("rows_update does not write JSON columns")
    if connection.vendor != "postgresql":
        return _rows_update_case(model, using, targets, listed, conditions)
    sql, params = _rows_update_sql(connection, model, targets, checked, listed, conditions)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _rows_update_sql(
    connection: Any,
    model: type[models.Model],
    targets: list[Any],
    checked: list[Any],
    rows: list[tuple[Any, ...]],
    conditions: dict[str, Any],
) -> tuple[str, list[Any]]:
    """rows_update's statement on PostgreSQL and its parameters.

    Each condition travels as one more array (its value repeated per row) and is compared with IS NOT
    DISTINCT FROM, so the only way into the table is the primary key joined to the arrays. As constants
    (`t.state = 'sending'`), an index on the condition's column was a way in too: with statistics that
    saw few such rows the planner chose it, and during a burst (every claimed message passing through
    'sending', the dead index entries of those already sent not yet vacuumed) each 200-row UPDATE walked
    thousands of entries: a quarter of a second each, half of the database's time in a reminder run.
    """
    qn = connection.ops.quote_name
    pk = model._meta.pk
    table = qn(model._meta.db_table)
    names = [str(pk.column), *(str(field.column) for field in targets)]
    columns = [pk, *targets]
    params: list[Any] = [list(column) for column in zip(*rows, strict=True)]
    filters = [f"t.{qn(str(pk.column))} = v.{qn(str(pk.column))}"]
    for index, field in enumerate(checked):
        name = f"where_{index}"
        value = conditions[field.attname]
        names.append(name)
        columns.append(field)
        params.append([None if value is None else field.get_db_prep_save(value, connection)] * len(rows))
        filters.append(f"t.{qn(str(field.column))} IS NOT DISTINCT FROM v.{qn(name)}")
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
    assignments = ", ".join(f"{qn(str(field.column))} = v.{qn(str(field.column))}" for field in targets)
    sql = (
        f"UPDATE {table} AS t SET {assignments}"  # noqa: S608 - names from the model
        f" FROM unnest({arrays}) AS v({', '.join(qn(name) for name in names)})"
        f" WHERE {' AND '.join(filters)}"
    )
    return sql, params


def _known(by_attname: dict[str, Any], names: Sequence[str]) -> Sequence[str]:
    unknown = [name for name in names if name not in by_attname]
    if unknown:
        raise ValueError(f"No column for {unknown}")
    return names


def _rows_update_case(
    model: type[models.Model],
    using: str,
    targets: list[Any],
    rows: list[tuple[Any, ...]],
    conditions: dict[str, Any],
) -> int:
    """rows_update on databases without arrays: one UPDATE with a CASE per field (as bulk_update builds)."""
    from django.db.models import Case, Value, When

    updates = {
        field.attname: Case(
            *(When(pk=row[0], then=Value(row[position + 1], output_field=field)) for row in rows),
            output_field=field,
        )
        for position, field in enumerate(targets)
    }
    lookups = {
        (name if value is not None else f"{name}__isnull"): (value if value is not None else True)
        for name, value in conditions.items()
    }
    return int(
        model._default_manager.using(using)
        .filter(pk__in=[row[0] for row in rows], **lookups)
        .update(**updates)
    )
