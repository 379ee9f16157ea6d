"""Queue a Celery task by its registered name, so a service need not import its app's `tasks` module.

An app's `tasks.py` imports its services (a task takes ids and calls a service); a service that queues a
task of the same app would import `tasks.py` back. Naming the task instead keeps the import graph one-way.
Each app imports its `tasks` module in AppConfig.ready(), so every name is registered in every process
(web, worker, beat, commands); an eager Celery (tests, the demo without a worker) still runs it at once.
"""

from __future__ import annotations

from careline.celery import app


def task_enqueue(name: str, *args: int | str | list[int]) -> None:
    """Queue the task registered as NAME with ARGS (ids only); LookupError for a name nothing registered."""
    try:
        task = app.tasks[name]
    except KeyError:
        raise LookupError(f"No Celery task is registered as {name!r}") from None
    task.delay(*args)
