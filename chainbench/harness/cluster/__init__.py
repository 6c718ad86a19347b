"""Run an experiment's points on a Dask cluster: an existing one (``--scheduler``) or a local
one started here (``--local-cluster N``), with the same points.csv and meta.json as a run in
one process. Needs the optional ``cluster`` extra (Dask's ``distributed``).

Honest timings on a cluster:
- each worker measures one point at a time on one thread, with Numba and BLAS pinned to
  ``threads`` threads, and is warmed up (every kernel the experiment uses compiled or loaded
  from the cache) before its first timed point;
- workers must run the same numba and numpy versions, or the run is refused;
- a point whose worker dies is retried once on another worker, then recorded as failed;
- the guards of a sequential run keep their meaning: skips are decided on the client before a
  point is sent, and a series (points that differ only in size) has at most one point in
  flight, its sizes sent cheapest first, so a timeout still skips the larger sizes after it.
  Parallelism is across series, the series with the most predicted work left first. Little
  is lost: where n doubles along a series, its largest point costs more than all the smaller
  ones together (×8 per doubling for a forward-mode gradient, ×4 for reverse), so a series
  takes about its largest point's time whatever the number of workers.

Rows are appended on the client as each point completes, in completion order, so an
interrupted run loses only the points in flight and ``--resume`` works as it does in-process:
the run loop is the in-process one (``loop.sweep``).

By role: ``connection`` (reach a cluster, or start a local one and its dashboard),
``worker`` (what runs on the workers), ``checks`` (the client's checks of the workers),
``executor`` (submit points, collect their rows), ``client`` (``run``: all of it in order).
"""

from .checks import check_workers, crowding, memory_per_worker, trimming
from .client import run
from .connection import MISSING, RETRIES, connect, local_cluster, require
from .worker import worker_info

__all__ = ["MISSING", "RETRIES", "check_workers", "connect", "crowding", "local_cluster",
           "memory_per_worker", "require", "run", "trimming", "worker_info"]
