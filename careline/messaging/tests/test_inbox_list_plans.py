"""The inbox list's query plans: a page walks the open conversations in the list's own order over an index
(no sort of every open conversation), and the front desk's visibility rule never reads every patient phone.

Measured with the workspace bench (README, "Staff workspace"); these keep the shape that made it fast.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction

from careline.messaging.queries.inbox_list import SORT_PATIENT, InboxFilters, inbox_conversations
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

ORDER_INDEX = {"": "conversation_open_activity", SORT_PATIENT: "conversation_open_patient"}
# SQLite, without statistics, may take the older (status, -sort column) index instead: the same order, so
# it sorts only rows with the same time by id ("RIGHT PART OF ORDER BY"), never every open conversation.
SQLITE_ORDER_INDEXES = {
    "": ("conversation_open_activity", "messaging_c_status_ae8aa9_idx"),
    SORT_PATIENT: ("conversation_open_patient", "conversation_patient_order"),
}


def _page_sql(user, **filters) -> tuple[str, tuple]:
    return inbox_conversations(user, InboxFilters(**filters))[:51].query.sql_with_params()


def _plan(sql: str, params: tuple, *settings: str) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(setting)
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize("sort", ["", SORT_PATIENT])
def test_a_page_of_open_conversations_walks_the_order_index_on_sqlite(personas, sort):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan")
    texted_by(PAT_NUMBER)
    texted_by(QUINN_NUMBER)
    for user in (personas.front_a, personas.admin):
        plan = _plan(*_page_sql(user, **({"sort": sort} if sort else {})))
        first = plan.splitlines()[0]
        assert any(f"USING INDEX {index} (status=?)" in first for index in SQLITE_ORDER_INDEXES[sort]), plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # no sort of every open conversation


@pytest.mark.postgres
@pytest.mark.parametrize("sort", ["", SORT_PATIENT])
def test_a_page_of_open_conversations_walks_the_order_index_on_postgresql(personas, sort):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan")
    texted_by(PAT_NUMBER)
    texted_by(QUINN_NUMBER)
    column = "last_patient_message_at" if sort else "last_message_at"
    # Tiny tables: forbid what a big clinic's statistics rule out, so the plan shows what the shape allows.
    settings = ("SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off")
    for user in (personas.front_a, personas.admin):
        plan = _plan(*_page_sql(user, **({"sort": sort} if sort else {})), *settings)
        assert ORDER_INDEX[sort] in plan, plan
        assert f"Sort Key: messaging_conversation.{column}" not in plan, plan
        # Every read of patient phones looks numbers up (Index Cond), never scans them all for a hash.
        assert "Seq Scan on patients_patientphone" not in plan, plan
        lines = plan.splitlines()
        for n, line in enumerate(lines):
            if re.search(r"Index (Only )?Scan .*on patients_patientphone", line):
                assert "Index Cond" in lines[n + 1], plan


def test_the_front_desk_rule_never_looks_up_phones_for_every_listed_conversation(personas):
    """The unknown-number branch is judged over the unlinked conversations alone and matched by id: a
    phone lookup correlated with each listed row made PostgreSQL hash every patient phone per page."""
    texted_by(PAT_NUMBER)
    sql, _params = _page_sql(personas.front_a)
    correlated = re.findall(r'"patients_patientphone"[^()]*\("messaging_conversation"\."contact"\)', sql)
    assert not correlated
    assert '"number" = ("messaging_conversation"."contact")' not in sql


@pytest.mark.postgres
def test_postgres_connections_do_not_jit_compile_the_inbox_aggregates(db: None) -> None:
    # The counts query is estimated above jit_above_cost at full size; compiling it cost more than running it.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
