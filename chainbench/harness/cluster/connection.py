"""Reach a Dask cluster: an existing one at a scheduler's address, or a local one started
here whose scheduler, workers and dashboard listen on this machine only. Dask's
``distributed`` is imported only when asked for (``require``): it is the optional
``cluster`` extra."""

from __future__ import annotations

import logging
import signal
from contextlib import contextmanager

from ..experiment.config import ConfigError

MISSING = "install the cluster extra: pip install -e '.[cluster]'"
#: Tries after the first on another worker when a worker dies while measuring a point.
RETRIES = 1


def require():
    """The ``distributed`` module, or a ConfigError naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise ConfigError(MISSING) from None
    return distributed


#: Where a local cluster listens: this machine only. Its scheduler accepts any task (it
#: runs pickled code) and its dashboard shows the run, so neither is offered to the network
#: unless asked for (``host="0.0.0.0"``, ``dashboard_address=":8787"``).
LOCAL_HOST = "127.0.0.1"
LOCAL_DASHBOARD = f"{LOCAL_HOST}:0"  # a free port, on this machine only


def local_cluster(n: int, host: str = LOCAL_HOST,
                  dashboard_address: str | None = LOCAL_DASHBOARD):
    """A LocalCluster of ``n`` single-threaded worker processes fit for timing (use it in a
    ``with``). Scheduler, workers and dashboard listen on ``host`` and
    ``dashboard_address``: 127.0.0.1 unless the caller asks otherwise (None: no
    dashboard)."""
    distributed = require()
    import dask

    if n < 1:
        raise ConfigError(f"--local-cluster must be ≥ 1, got {n}")
    # No pre-spawn environment: workers inherit this process's, as an in-process run has
    # it. Dask's MALLOC_TRIM_THRESHOLD_ alone made points with large Jacobians up to 3×
    # slower: glibc then maps and unmaps every large buffer again on each call.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        # memory_limit=0: no nanny kills or pauses; the client's memory guard plans instead.
        # Logs silenced: a lost worker is reported in its point's row, and closing the
        # cluster can log harmless heartbeat errors from workers that outlive the scheduler.
        return distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, memory_limit=0, host=host,
            dashboard_address=dashboard_address, silence_logs=logging.CRITICAL,
            scheduler_kwargs={"allowed_failures": RETRIES})


@contextmanager
def connect(scheduler: str | None = None, local_workers: int | None = None):
    """A Client of the cluster at ``scheduler``, or of a local_cluster() started here with
    ``local_workers`` workers (closed on leaving)."""
    distributed = require()
    if (scheduler is None) == (local_workers is None):
        raise ConfigError("give either a scheduler address or a number of local workers")
    if local_workers is not None:
        with local_cluster(local_workers) as cluster, distributed.Client(cluster) as client:
            client.wait_for_workers(local_workers, timeout=120)
            # Ctrl-C reaches the workers too: let the client alone handle it and close them
            client.register_plugin(_ignore_interrupt_plugin())
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError(f"--scheduler {scheduler}: cannot connect: {err}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise ConfigError(f"--scheduler {scheduler}: no workers joined in 60 s") from None
        yield client


def allowed_failures(client) -> int:
    """How many times the scheduler retries a point lost with its worker."""
    return client.run_on_scheduler(_allowed_failures)


def _allowed_failures(dask_scheduler=None) -> int:
    return dask_scheduler.allowed_failures


def _ignore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignore_interrupt_plugin():
    from distributed import WorkerPlugin

    class IgnoreInterrupt(WorkerPlugin):
        """Local workers (and their restarts) leave SIGINT to the client."""

        def setup(self, worker):
            _ignore_interrupt()

    return IgnoreInterrupt()
