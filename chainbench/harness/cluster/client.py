"""A sweep on a Dask cluster, from the client: connect, describe and check the workers,
warm each one up, then the run loop (``loop.sweep``) with the points measured on the
workers (``executor.OnCluster``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..experiment.config import ConfigError, Experiment, Measure, Point
from ..run.guards import Guards
from ..run.loop import ordered, sweep
from ..run.point import measure_point, warmup_points
from ..storage.results import ResultsDir
from .checks import check_workers, common, memory_per_worker
from .connection import allowed_failures, connect
from .executor import OnCluster
from .worker import warm, worker_info


def run(exp: Experiment, out: Path, *, scheduler: str | None = None,
        local_workers: int | None = None, resume: bool = False, threads: int = 1,
        progress: Callable | None = None, argv: list[str] | None = None,
        measure: Callable = measure_point) -> ResultsDir:
    """Run ``exp`` into ``out`` on a Dask cluster (see ``cluster``'s docstring); returns
    the results folder, as :func:`sweep.run` does.

    ``measure(point, policy) -> Row`` runs on the workers (measure_point by default);
    ``progress(done, total, point, row)`` is called on the client per point.
    """
    if threads < 1:
        raise ConfigError(f"threads must be ≥ 1, got {threads}")
    with connect(scheduler, local_workers) as client:
        infos = describe_workers(client)
        resource = check_workers(infos)
        retries = allowed_failures(client)
        guards = Guards(exp.measure.budget_s, memory=memory_per_worker(infos),
                        sparse_output=exp.measure.sparse_output)
        plan = ordered(exp.points(), guards)
        warmups = warmup_points([p for p, _ in plan])
        workers = warm_up(client, infos, threads, warmups, exp.measure, measure, resource)
        info = {"threads": common(w["threads"] for w in workers.values()),
                "scheduler": scheduler or f"local cluster of {local_workers} workers",
                "retries_on_lost_worker": retries, "workers": list(workers.values())}
        executor = OnCluster(client, exp.measure, threads, warmups, measure, resource,
                             workers, retries)
        return sweep(exp, out, executor, guards, threads=threads, resume=resume,
                     progress=progress, argv=argv, plan=plan, info=info)


def describe_workers(client) -> list[dict]:
    """``worker_info`` of every worker; a ConfigError when they cannot run chainbench."""
    try:
        return list(client.run(worker_info).values())
    except Exception as err:  # noqa: BLE001 - e.g. a worker without chainbench
        raise ConfigError(f"workers cannot run chainbench ({type(err).__name__}: {err}); "
                          "install the same chainbench on every worker") from None


def warm_up(client, infos: list[dict], threads: int, warmups: list[Point], policy: Measure,
            measure: Callable, resource: dict | None) -> dict[str, dict]:
    """Pin and warm every worker up (``worker.warm``) before any point; returns each
    worker's info and what its warm-up did, by address."""
    warmed = client.gather([
        client.submit(warm, threads, warmups, policy, measure, pure=False,
                      workers=[i["address"]], allow_other_workers=False, resources=resource)
        for i in infos])
    return {w["address"]: w for w in warmed}
