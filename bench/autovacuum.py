"""What autovacuum would do during a long bench run, on a server where it is off.

The development and CI server here runs with `autovacuum = off`. A production database has it on: during a
burst it vacuums the tables whose rows were updated (so scans stop wading through dead index entries) and
analyses the ones that changed (so the planner knows a table that grew from empty). A bench of a burst that
lasts minutes measures the application in that production state only if the same happens. `Autovacuum`
does it with autovacuum's own rules and settings (read from the server): every `autovacuum_naptime`, each
table of the run's database with more dead rows than `autovacuum_vacuum_threshold +
autovacuum_vacuum_scale_factor * reltuples` is vacuumed, and each with more changes since its last analyse
than the analyse threshold and scale factor allow is analysed. It runs in a thread with a connection of
its own (a backend of the run's database, so its CPU counts in the database's), and does nothing when the
server's autovacuum is on or the database is not PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection, connections

SETTINGS = (
    "autovacuum",
    "autovacuum_naptime",
    "autovacuum_vacuum_threshold",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_analyze_threshold",
    "autovacuum_analyze_scale_factor",
)

# The tables past autovacuum's thresholds (reltuples is -1 for a table never vacuumed or analysed).
DUE = """
SELECT s.relname,
       s.n_dead_tup > %(vacuum_threshold)s + %(vacuum_scale)s * greatest(c.reltuples, 0) AS vacuum,
       s.n_mod_since_analyze > %(analyze_threshold)s + %(analyze_scale)s * greatest(c.reltuples, 0) AS analyse
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = 'public'
"""


class Autovacuum:
    """Start with `start()`, end with `stop()`; `passes` and `seconds` say what it did."""

    def __init__(self) -> None:
        self.passes = 0
        self.vacuumed = 0
        self.analysed = 0
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._settings: dict[str, Any] = {}

    def needed(self) -> bool:
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(SETTINGS)])
            self._settings = dict(cursor.fetchall())
        return self._settings.get("autovacuum") == "off"

    def start(self) -> bool:
        """Start the thread if the server's autovacuum is off; whether it started."""
        if not self.needed():
            return False
        self._thread = threading.Thread(target=self._run, name="bench-autovacuum", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        naptime = float(self._settings["autovacuum_naptime"])
        params = {
            "vacuum_threshold": int(self._settings["autovacuum_vacuum_threshold"]),
            "vacuum_scale": float(self._settings["autovacuum_vacuum_scale_factor"]),
            "analyze_threshold": int(self._settings["autovacuum_analyze_threshold"]),
            "analyze_scale": float(self._settings["autovacuum_analyze_scale_factor"]),
        }
        own = connections.create_connection("default")
        try:
            own.ensure_connection()
            own.set_autocommit(True)  # VACUUM cannot run in a transaction
            while not self._stop.wait(naptime):
                began = time.perf_counter()
                with own.cursor() as cursor:
                    cursor.execute(DUE, params)
                    for table, vacuum, analyse in cursor.fetchall():
                        if vacuum:
                            options = "(ANALYZE) " if analyse else ""
                            cursor.execute(f'VACUUM {options}"{table}"')
                            self.vacuumed += 1
                            self.analysed += bool(analyse)
                        elif analyse:
                            cursor.execute(f'ANALYZE "{table}"')
                            self.analysed += 1
                self.passes += 1
                self.seconds += time.perf_counter() - began
        finally:
            own.close()
