"""gunicorn's settings for Careline's web processes: `gunicorn -c python:careline.gunicorn_conf careline.wsgi:application`.

`make run` (careline/demo/launcher.py), the README's deployment, the chaos run and the webhook bench
(bench/webhook.py) all start gunicorn with this module, so what is measured is what runs; the bench measures
Granian (careline/granian_conf.py, the supported alternative) beside it in every run. Options on the command
line (or in GUNICORN_CMD_ARGS) override these.

Why these values (issue 14, bench/webhook.py): one process per core, because the GIL lets a process use
about one core; 8 threads so that a process keeps its core busy while requests wait for the database (a
provider webhook waits for its commit). On a shared 2-core machine 4, 8 and 16 threads gave 350-390 webhook
requests/s flat out, within the noise (README, "Messaging: webhooks and delivery callbacks"). gthread keeps
connections alive between requests (a proxy's or Twilio's); gunicorn's sync worker gives a process to each
open connection (an idle kept-alive one holds it until the timeout) and must sit behind a buffering proxy.
"""

from __future__ import annotations

import os

worker_class = "gthread"
workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
threads = 8
