"""Gunicorn hooks for Prometheus multiprocess mode, shared by both Gunicorn configs.

Each worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR and `/metrics` adds up
every file. One directory per service (the unit sets it under its RuntimeDirectory; without
it the master makes a private one), emptied when the master starts so counts begin at zero
with the service, as Prometheus expects of a restarted target. Files of workers that exit
keep their counters (the service's totals never go down on a worker restart); their live
gauges (sockets connected, pool in use) are dropped.
"""

import os
import shutil
import tempfile

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_CREATED = "IMPERIO_METRICS_DIR_CREATED"


def on_starting(server):
    """Give the workers (forked later, inheriting the environment) an empty samples directory."""
    directory = os.environ.get(VARIABLE)
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))
    else:
        os.environ[VARIABLE] = tempfile.mkdtemp(prefix="imperio-metrics-")
        os.environ[_CREATED] = "1"


def child_exit(server, worker):
    """Forget an exited worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the directory this master made for itself."""
    if os.environ.pop(_CREATED, None):
        shutil.rmtree(os.environ[VARIABLE], ignore_errors=True)
