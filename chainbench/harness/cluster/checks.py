"""The client's checks of a cluster's workers before a run: the same numba and numpy
everywhere, one point at a time per worker (one task thread, or one ``chainbench``
resource slot), warnings for hosts whose points would share cores or whose workers run with
MALLOC_TRIM_THRESHOLD_ set, and the memory one point may plan on."""

from __future__ import annotations

import os

from ...provenance import now
from ..experiment.config import ConfigError

#: Versions that must agree on every worker: they decide what the timed code is.
SAME_VERSIONS = ("numba", "numpy")
#: Slot a worker started with `--resources chainbench=1` gives to one point at a time.
RESOURCE = "chainbench"


def check_workers(infos: list[dict]) -> dict | None:
    """Refuse workers whose numba/numpy versions differ, or that could run two points at
    once (ConfigError naming them); returns the resources each point must hold: none when
    every worker has one task thread, one ``chainbench`` slot when every worker has one."""
    seen = {tuple(i["versions"].get(k) for k in SAME_VERSIONS) for i in infos}
    if len(seen) > 1:
        listing = "; ".join(
            f"{i['address']} " + " ".join(f"{k} {i['versions'].get(k)}" for k in SAME_VERSIONS)
            for i in infos)
        raise ConfigError(f"workers differ in {'/'.join(SAME_VERSIONS)} versions ({listing}); "
                          "install the same versions on every worker")
    if all(i["resources"].get(RESOURCE) == 1 for i in infos):
        return {RESOURCE: 1}
    shared = [i["address"] for i in infos if i["nthreads"] > 1]
    if shared:
        raise ConfigError(f"workers {', '.join(shared)} run several task threads, so points "
                          f"would share cores; start every worker with --nthreads 1, or "
                          f"every worker with --resources {RESOURCE}=1")
    return None


def crowding(infos: list[dict]) -> list[str]:
    """Warnings for hosts where points would share a core: more workers than cores, or
    workers pinned (CPU affinity narrower than the host) to overlapping CPUs."""
    hosts: dict[str, list] = {}
    for i in infos:
        hosts.setdefault(i["hostname"], []).append(i)
    out = []
    for host, ws in hosts.items():
        cores = ws[0]["cores"]
        if cores and len(ws) > cores:
            out.append(f"{now()}: host {host} runs {len(ws)} workers on {cores} cores: points "
                       "share cores and timings are not comparable")
        pinned = [(w["address"], set(cpus)) for w in ws
                  if (cpus := (w.get("threads") or {}).get("cpu_affinity")) and cores
                  and len(cpus) < cores]
        for k, (a, cpus_a) in enumerate(pinned):
            for b, cpus_b in pinned[k + 1:]:
                if cpus_a & cpus_b:
                    out.append(f"{now()}: workers {a} and {b} on host {host} are pinned to "
                               f"the same CPUs {sorted(cpus_a & cpus_b)}: their points share "
                               "a core and timings are not comparable")
    return out


def trimming(infos: list[dict]) -> list[str]:
    """A warning when workers run with MALLOC_TRIM_THRESHOLD_ set (Dask's nanny sets it)
    and this process does not: their timings of large Jacobians are not comparable."""
    trim = [i["address"] for i in infos
            if i.get("environ", {}).get("MALLOC_TRIM_THRESHOLD_") is not None]
    if not trim or os.environ.get("MALLOC_TRIM_THRESHOLD_") is not None:
        return []
    return [(f"{now()}: workers {', '.join(trim)} run with MALLOC_TRIM_THRESHOLD_ set, as "
             "Dask's nanny sets it: large buffers are mapped anew on each call, which made "
             "points with large Jacobians up to 3x slower; start workers with --no-nanny, "
             "or with distributed.nanny.pre-spawn-environ set to {} in their Dask config")]


def memory_per_worker(infos: list[dict]) -> int | None:
    """Available memory one point may plan on: the least, over hosts, of the host's
    available memory shared among its workers."""
    hosts: dict[str, list] = {}
    for i in infos:
        hosts.setdefault(i["hostname"], []).append(i)
    shares = [ws[0]["memory_available"] // len(ws) for ws in hosts.values()
              if ws[0]["memory_available"]]
    return min(shares) if shares else None


def common(values):
    """The value every worker has, else a note that they differ."""
    values = list(values)
    return values[0] if all(v == values[0] for v in values) else "differ: see workers"
