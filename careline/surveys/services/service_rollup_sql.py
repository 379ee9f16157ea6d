"""The Service report's backfill on PostgreSQL: every location's rolled-up rows derived by the database in a
few INSERT ... SELECT statements (window functions over the location's messages), with the same rules as the
Python derivation the sweep uses (careline/surveys/services/service_rollup.py); the tests compare the two."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection

from careline.surveys.business_time import MONDAY_OFFSET, business_seconds_sql

if TYPE_CHECKING:
    from careline.surveys.services.service_rollup import Clock

SORT_MEMORY_MB = 256

_LOCATION_MESSAGES = """
  FROM messaging_message m JOIN messaging_conversation c ON c.id = m.conversation_id
  WHERE c.location_id = %(location)s
"""

# A turn: the patient's texts up to a staff-written reply (numbered by the staff replies before it).
_RESPONSE_PAIRS = f"""
  SELECT conversation_id, MIN(CASE WHEN staff = 0 THEN created_at END) AS asked,
         MIN(CASE WHEN staff = 1 THEN created_at END) AS answered
  FROM (SELECT m.conversation_id, m.created_at, CASE WHEN m.direction = 'out' THEN 1 ELSE 0 END AS staff,
               SUM(CASE WHEN m.direction = 'out' THEN 1 ELSE 0 END)
                 OVER (PARTITION BY m.conversation_id ORDER BY m.created_at, m.id ROWS UNBOUNDED PRECEDING)
               - CASE WHEN m.direction = 'out' THEN 1 ELSE 0 END AS turn
        {_LOCATION_MESSAGES}
          AND (m.direction = 'in' OR (m.kind = 'staff' AND m.author_id IS NOT NULL))) turns
  GROUP BY conversation_id, turn
"""  # noqa: S608

# A cycle: the patient's texts up to a closing (numbered by the closings before it).
_RESOLUTION_PAIRS = f"""
  SELECT conversation_id, MIN(CASE WHEN closed = 0 THEN at END) AS asked,
         MIN(CASE WHEN closed = 1 THEN at END) AS answered
  FROM (SELECT conversation_id, at, closed,
               SUM(closed) OVER (PARTITION BY conversation_id ORDER BY at, closed, id ROWS UNBOUNDED PRECEDING)
               - closed AS cycle
        FROM (SELECT m.conversation_id, m.created_at AS at, m.id, 0 AS closed
              {_LOCATION_MESSAGES} AND m.direction = 'in'
              UNION ALL
              SELECT e.conversation_id, e.at, e.id, 1
              FROM messaging_conversationevent e JOIN messaging_conversation c ON c.id = e.conversation_id
              WHERE c.location_id = %(location)s AND e.kind = 'closed') stream) cycles
  GROUP BY conversation_id, cycle
"""  # noqa: S608


def _episodes_sql(pairs: str, kind: str, clock: Clock) -> str:
    asked, answered = business_seconds_sql("xa", clock.spans), business_seconds_sql("xb", clock.spans)
    # Only Careline's own constants and integers are written into the SQL; every value is a parameter.
    return f"""
      INSERT INTO surveys_serviceepisode (location_id, conversation_id, kind, asked, answered, business_seconds,
                                          hours_key)
      SELECT %(location)s, conversation_id, '{kind}', asked, answered, {answered} - {asked}, %(key)s
      FROM (SELECT conversation_id, asked, answered,
                   extract(epoch from (asked AT TIME ZONE %(zone)s))::float8 + {MONDAY_OFFSET} AS xa,
                   extract(epoch from (answered AT TIME ZONE %(zone)s))::float8 + {MONDAY_OFFSET} AS xb
            FROM ({pairs}) pairs WHERE asked IS NOT NULL AND answered IS NOT NULL) local_times
    """  # noqa: S608


_STAFF_DAYS = f"""
  INSERT INTO surveys_servicestaffday (location_id, conversation_id, author_id, day, replies)
  SELECT %(location)s, m.conversation_id, m.author_id, (m.created_at AT TIME ZONE %(zone)s)::date, count(*)
  {_LOCATION_MESSAGES} AND m.direction = 'out' AND m.kind = 'staff' AND m.author_id IS NOT NULL
  GROUP BY 2, 3, 4
"""

_VOLUME = f"""
  INSERT INTO surveys_servicevolume (location_id, day, hour, texts)
  SELECT %(location)s, (m.created_at AT TIME ZONE %(zone)s)::date,
         extract(hour from (m.created_at AT TIME ZONE %(zone)s))::int, count(*)
  {_LOCATION_MESSAGES} AND m.direction = 'in'
  GROUP BY 2, 3
"""  # noqa: S608


def rollup_rebuild_location_postgres(location_id: int, clock: Clock) -> None:
    """Insert LOCATION_ID's episodes, staff days and volume (its rows deleted before); in a transaction."""
    params: dict[str, int | str] = {"location": location_id, "zone": clock.zone.key, "key": clock.key}
    with connection.cursor() as cursor:
        # The windows' sort of a location's messages fits in memory with this (for this transaction only).
        cursor.execute(f"SET LOCAL work_mem = '{int(SORT_MEMORY_MB)}MB'")
        cursor.execute(_episodes_sql(_RESPONSE_PAIRS, "response", clock), params)
        cursor.execute(_episodes_sql(_RESOLUTION_PAIRS, "resolution", clock), params)
        cursor.execute(_STAFF_DAYS, params)
        cursor.execute(_VOLUME, params)
