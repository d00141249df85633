"""gunicorn's settings for `make serve` (read from the working directory); flags on the command line win.

The workers and the task consumer count their metrics into one folder that /metrics adds up
(prometheus-client's multiprocess mode): it must be set before any worker imports the app.
"""

import os
from pathlib import Path

from prometheus_client import multiprocess

# `make serve` empties it at each start (and the consumer writes there too); a systemd unit does the same with
# ExecStartPre (docs/operations.md)
metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                                         str(Path(__file__).resolve().parent / "instance" / "metrics")))
metrics_dir.mkdir(parents=True, exist_ok=True)


def child_exit(_server, worker):

    multiprocess.mark_process_dead(worker.pid)
