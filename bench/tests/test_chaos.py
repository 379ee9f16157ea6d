"""The short chaos run on every change (CI's PostgreSQL pass): 1,000 reminders and 200 inbound texts while a
worker is SIGKILLed, Redis and PostgreSQL are restarted and the provider fails, stalls and rate-limits; the run's
history checker must find nothing lost, nothing doubled without an ambiguous answer, nothing sent after an
opt-out, every inbound text stored once and every delivery report applied.

The run starts its own PostgreSQL cluster and redis-server (it crashes them), so it needs the PostgreSQL
server programs and redis-server on the machine, not the test database: it runs where the PostgreSQL tests do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.timeout(900)]


def test_short_chaos_run_keeps_every_guarantee(tmp_path):
    out = tmp_path / "chaos.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELINE_", "DATABASE_", "CELERY_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.chaos", "--short", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-8000:]
    result = json.loads(out.read_text())
    assert result["ok"] and result["problems"] == []
    # Each kind of fault really happened.
    faults = result["faults"]
    assert "restart redis" in faults and "restart postgres" in faults
    assert any(fault.startswith("kill worker") for fault in faults)
    assert {"500", "429"} <= set(result["provider_faults"])
    assert any(kind.startswith("stall") for kind in result["provider_faults"])
    # Every reminder became a delivered text (or was not sent to an opted-out number), and the reports of
    # every text accepted were posted twice each.
    outbound = result["outbound"]
    assert outbound.get("delivered", 0) + outbound.get("suppressed", 0) >= result["reminders"]
    assert result["webhooks_answered"]["status"] >= 4 * outbound["delivered"]
    assert result["inbound"]["stored"] == result["inbound_texts"]
