"""Profile a statement run's chunks on one database (the one DATABASE_URL names): where a chunk's time goes.

    DATABASE_URL=postgres://.../scratch python -m bench.billing_profile --patients 2000 --out chunk.prof

Seeds like bench/billing_run.py, then works the run's chunks one after another in this process under
cProfile (or, with --no-profile, only timed: wall and CPU seconds per chunk) and prints the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from datetime import date
from pathlib import Path

from bench import billing_run
from careline.billing.services import statement_runs
from careline.core.actor import Actor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    billing_run.seed(args.patients)
    statement_runs.task_enqueue = lambda *a: None
    run = statement_runs.statement_run_start(actor=Actor.system("bench"), statement_date=date(2030, 3, 12))
    profile = cProfile.Profile()
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(run.chunks.count()):
        t0, c0 = time.perf_counter(), time.process_time()
        if not args.no_profile:
            profile.enable()
        statement_runs.statement_run_chunk(run_id=run.pk)
        if not args.no_profile:
            profile.disable()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print("wall per chunk:", [round(t, 3) for t in wall])
    print("cpu per chunk: ", [round(t, 3) for t in cpu], "load", os.getloadavg())
    if not args.no_profile:
        profile.dump_stats(args.out)
        pstats.Stats(str(args.out)).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
