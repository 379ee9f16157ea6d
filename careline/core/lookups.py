"""`field__any_of=values`: membership in a long list of values, sent as one array on PostgreSQL.

`field__in=[...]` with hundreds of values puts one placeholder per value in the SQL; the driver then splits
and quotes the statement value by value on the client (psycopg's client-side binding), and Django prepares
each value on its own: for a statement run's chunk of 500 patients, twenty such queries cost more client CPU
than the database spends answering them. `field = ANY(%s::type[])` sends the values as one array parameter;
PostgreSQL plans both forms the same way (an IN list is read as `= ANY(ARRAY[...])`). Elsewhere (SQLite) the
lookup is the plain `IN`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In

_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})


class AnyOf(Lookup):
    """`field = ANY(values)`: VALUES (an iterable of plain values: ids, strings) as one array parameter."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        values: Iterable[Any] = self.rhs
        return list(values)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array_type = self.lhs.output_field.db_type(connection)
        if array_type in _INTEGER_TYPES:
            array_type = "bigint"  # any id fits, as in an IN list (int4 = ANY(int8[]) still reads the index)
        return f"{lhs} = ANY(%s::{array_type}[])", (*lhs_params, self.rhs)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # related fields keep lookups of their own: `patient_id__any_of`
