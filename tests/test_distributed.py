"""Sweeps on a Dask cluster: a LocalCluster of two worker processes on this machine gives the
same rows as a run in one process; a worker killed mid-point loses no finished row and its
point is retried once, then recorded as failed; --resume continues an interrupted run;
workers with different numba/numpy versions are refused; without the `distributed` package
the CLI says which extra to install. The cluster tests are skipped where it is missing."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pandas as pd
import pytest

from chainbench.cli import main
from chainbench.harness import cluster as dist
from chainbench.harness.analysis import tables
from chainbench.harness.cluster import client as cluster_client
from chainbench.harness.experiment import config
from chainbench.harness.experiment.config import ConfigError
from chainbench.harness.run.point import measure_point
from chainbench.harness.storage.row import COLUMNS, KEY_COLUMNS


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes, retrying a point lost with
    its worker once, shared by the tests of this module."""
    pytest.importorskip("distributed")
    with dist.local_cluster(2) as cluster:
        yield cluster


@pytest.fixture
def scheduler(cluster):
    """The cluster's address, once both workers are up (a worker killed by an earlier test
    comes back under a new address after a few seconds)."""
    import distributed

    with distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
    return cluster.scheduler_address


def _points(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "points.csv")


def _keys(df: pd.DataFrame) -> set:
    return set(df[list(KEY_COLUMNS)].astype(str).itertuples(index=False))


def _run(tiny, out, scheduler, **kw):
    return dist.run(config.load(tiny), out, scheduler=scheduler, **kw)


class KillWorker:
    """A measure function that kills its worker process while measuring one point, the
    first ``times`` times it is asked to (counted in a marker file all workers see)."""

    def __init__(self, marker, n, mode, times):
        self.marker, self.n, self.mode, self.times = str(marker), n, mode, times

    def __call__(self, point, policy):
        if (point.n, point.m, point.mode) == (self.n, 1, self.mode):
            marker = Path(self.marker)
            kills = int(marker.read_text()) if marker.exists() else 0
            if kills < self.times:
                marker.write_text(str(kills + 1))
                os.kill(os.getpid(), signal.SIGKILL)
        return measure_point(point, policy)


class SlowAt:
    """A measure function whose point at (n, mode) reports a wall time past any budget."""

    def __init__(self, n, mode):
        self.n, self.mode = n, mode

    def __call__(self, point, policy):
        row = measure_point(point, policy)
        if (point.n, point.mode) == (self.n, self.mode):
            row.wall_s = 1e6
        return row


# --- without the cluster extra ---------------------------------------------------------------


def test_missing_distributed_is_one_line_exit_2(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--local-cluster", "2", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "chainbench: error: install the cluster extra: pip install -e '.[cluster]'"
    assert not out.exists()


def test_scheduler_and_local_cluster_exclude_each_other(tiny, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(tiny), "--scheduler", "tcp://127.0.0.1:1", "--local-cluster", "2"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def _info(address, numba="0.68.1", numpy="2.4.6", nthreads=1, resources=None):
    return {"address": address, "hostname": "h", "cores": 2, "memory_available": 2**30,
            "nthreads": nthreads, "resources": resources or {},
            "versions": {"numba": numba, "numpy": numpy}}


def test_workers_with_other_versions_are_refused():
    assert dist.check_workers([_info("a"), _info("b")]) is None
    with pytest.raises(ConfigError, match="numba/numpy versions.*b numba 0.60.0"):
        dist.check_workers([_info("a"), _info("b", numba="0.60.0")])
    with pytest.raises(ConfigError, match="numba/numpy"):
        dist.check_workers([_info("a"), _info("b", numpy="1.26.4")])


def test_workers_that_would_share_cores_are_refused():
    with pytest.raises(ConfigError, match="--nthreads 1"):
        dist.check_workers([_info("a"), _info("b", nthreads=4)])
    slot = {"chainbench": 1}
    assert dist.check_workers([_info("a", nthreads=4, resources=slot),
                               _info("b", resources=slot)]) == slot
    assert dist.memory_per_worker([_info("a"), _info("b")]) == 2**29  # one host, two workers
    assert dist.crowding([_info(a) for a in "abc"])  # three workers on two cores
    trimmed = {**_info("b"), "environ": {"MALLOC_TRIM_THRESHOLD_": "65536"}}
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        assert "b run with MALLOC_TRIM_THRESHOLD_" in dist.trimming([_info("a"), trimmed])[0]
    assert not dist.crowding([_info("a"), _info("b")])
    pinned = [{**_info(a), "threads": {"cpu_affinity": [0]}} for a in "ab"]
    assert "pinned to the same CPUs [0]" in dist.crowding(pinned)[0]


def test_fit_groups_by_cpu_model_when_workers_differ():
    quick = pd.read_csv(Path(__file__).parent / "fixtures" / "quick" / "points.csv")
    assert "cpu_model" not in tables.exponents(quick).columns  # one CPU model: as before
    two = pd.concat([quick.assign(cpu_model="cpu A"), quick.assign(cpu_model="cpu B")])
    for table in tables.summary(two).values():
        if len(table):
            assert set(table["cpu_model"]) == {"cpu A", "cpu B"}
    assert len(tables.exponents(two)) == 2 * len(tables.exponents(quick))


# --- on a LocalCluster -----------------------------------------------------------------------


def test_local_cluster_gives_the_rows_of_an_in_process_run(tiny, tmp_path, capsys):
    pytest.importorskip("distributed")
    here, there = tmp_path / "here", tmp_path / "there"
    assert main(["run", str(tiny), "--out", str(here), "--quiet"]) == 0
    assert main(["run", str(tiny), "--out", str(there), "--local-cluster", "2", "--quiet"]) == 0
    assert "[8/8]" in capsys.readouterr().out
    a, b = _points(here), _points(there)
    assert list(b.columns) == list(COLUMNS)
    assert len(b) == 8 and _keys(a) == _keys(b)
    assert (b["status"] == "ok").all() and (b["check_error"] < 1e-10).all()
    assert (b["madds_counted"] == b["madds_predicted"]).all()
    assert sorted(b["point"]) == list(range(8))
    meta = json.loads((there / "meta.json").read_text())
    run = meta["runs"][0]
    workers = {w["address"]: w for w in run["workers"]}
    assert len(workers) == 2 and set(b["worker"]) <= set(workers)
    for w in workers.values():
        assert w["cpu_model"] and w["cores"] >= 1 and w["versions"]["numba"]
        assert w["threads"]["numba_threads"] == 1 and w["nthreads"] == 1
        assert w["warm_s"] > 0 and w["warm_failed"] == []
        assert w["environ"]["MALLOC_TRIM_THRESHOLD_"] == os.environ.get("MALLOC_TRIM_THRESHOLD_")
    assert not [w for w in meta.get("warnings", []) if "MALLOC" in w]
    assert set(b["cpu_model"]) == {w["cpu_model"] for w in workers.values()}
    assert b["compile_s"].notna().all()
    assert run["retries_on_lost_worker"] == 1 and run["ended_at"]


def test_worker_killed_once_the_point_is_retried(tiny, tmp_path, scheduler):
    out, marker = tmp_path / "res", tmp_path / "kills"
    _run(tiny, out, scheduler, measure=KillWorker(marker, 8, "forward", times=1))
    df = _points(out)
    assert marker.read_text() == "1"
    assert len(df) == 8 and df[list(KEY_COLUMNS)].drop_duplicates().shape[0] == 8
    assert (df["status"] == "ok").all()
    assert sorted(df["point"]) == list(range(8))


def test_worker_killed_twice_the_point_fails_and_the_run_goes_on(tiny, tmp_path, scheduler):
    out, marker = tmp_path / "res", tmp_path / "kills"
    _run(tiny, out, scheduler, measure=KillWorker(marker, 8, "reverse", times=99))
    df = _points(out)
    assert marker.read_text() == "2"  # tried, then retried once on another worker
    assert len(df) == 8 and df[list(KEY_COLUMNS)].drop_duplicates().shape[0] == 8
    lost = df[(df["n"] == 8) & (df["m"] == 1) & (df["mode"] == "reverse")].iloc[0]
    assert lost["status"] == "failed" and "worker lost" in lost["reason"]
    assert "on 2 workers" in lost["reason"]
    assert (df.drop(lost.name)["status"] == "ok").all()  # every other row is kept


def test_interrupted_run_keeps_rows_and_resumes(tiny, tmp_path, scheduler):
    out = tmp_path / "res"

    def interrupt(done, total, point, row):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(tiny, out, scheduler, progress=interrupt)
    assert len(_points(out)) == 3
    _run(tiny, out, scheduler, resume=True)
    df = _points(out)
    assert len(df) == 8 and df[list(KEY_COLUMNS)].drop_duplicates().shape[0] == 8
    assert sorted(df["point"]) == list(range(8)) and (df["status"] == "ok").all()
    assert len(json.loads((out / "meta.json").read_text())["runs"]) == 2


def test_timeout_skips_larger_sizes_of_the_series(tiny, tmp_path, scheduler):
    out = tmp_path / "res"
    _run(tiny, out, scheduler, measure=SlowAt(4, "forward"))
    fwd = _points(out).query("mode == 'forward' and m == 1").set_index("n")
    assert fwd.loc[4, "status"] == "timeout"
    assert fwd.loc[8, "status"] == "skipped"
    assert "exceeded the time budget" in fwd.loc[8, "reason"]
    assert (_points(out).query("mode == 'reverse'")["status"] == "ok").all()


def _other_numba(dask_worker=None):
    info = dist.worker_info(dask_worker)
    info["versions"]["numba"] = "0.0+" + info["address"]  # every worker a different numba
    return info


def test_cluster_with_mixed_versions_is_refused(tiny, tmp_path, scheduler, monkeypatch, capsys):
    monkeypatch.setattr(cluster_client, "worker_info", _other_numba)
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--scheduler", scheduler]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "workers differ in numba/numpy versions" in err
    assert not out.exists()


# --- an external cluster whose only worker is lost ---------------------------------------


def _external_worker(address: str):
    """A worker process started as on an external cluster: `dask worker`, without a nanny
    to restart it, so that a worker killed stays gone."""
    import subprocess

    tests = str(Path(__file__).resolve().parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [*os.environ.get("PYTHONPATH", "").split(os.pathsep), tests]).strip(os.pathsep))
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                             "--no-nanny", "--nthreads", "1", "--no-dashboard",
                             "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_the_only_worker_lost_ends_the_run_within_a_bound(tiny, tmp_path, monkeypatch, capsys):
    """With no worker left the scheduler would hold the point forever; the run says so at
    once and stops after NO_WORKER_S with one line saying how to continue."""
    distributed = pytest.importorskip("distributed")
    import time

    from chainbench.harness.cluster import executor

    monkeypatch.setattr(executor, "NO_WORKER_S", 2.0)
    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1",
                                  dashboard_address=None,
                                  scheduler_kwargs={"allowed_failures": 1}) as cluster:
        worker = _external_worker(cluster.scheduler_address)
        try:
            out, marker = tmp_path / "res", tmp_path / "kills"
            start = time.monotonic()

            def hung(*_):
                raise AssertionError("no end 120 s after the only worker was lost")

            signal.signal(signal.SIGALRM, hung)
            signal.alarm(120)
            try:
                with pytest.raises(ConfigError, match="no worker left on the cluster for 2 s") \
                        as err:
                    _run(tiny, out, cluster.scheduler_address,
                         measure=KillWorker(marker, 8, "forward", times=1))
            finally:
                signal.alarm(0)
            assert time.monotonic() - start < 90
            assert marker.read_text() == "1" and worker.wait(timeout=30) != 0
        finally:
            worker.kill()
    assert "continue with --resume" in str(err.value) and "\n" not in str(err.value)
    assert "left the cluster (no worker is left)" in capsys.readouterr().err
    meta = json.loads((out / "meta.json").read_text())
    assert any("left the cluster" in w for w in meta["warnings"])
    assert meta["runs"][-1].get("interrupted") and not (out / "run.lock").exists()
    df = _points(out)  # the rows done are kept; the lost point has none, to be resumed
    assert not ((df["n"] == 8) & (df["m"] == 1) & (df["mode"] == "forward")).any()


def test_the_only_worker_lost_and_one_joining_retries_the_point(tiny, tmp_path, capsys):
    """A worker that joins while the run waits takes the lost point: retried, not failed."""
    distributed = pytest.importorskip("distributed")
    import threading
    import time

    out, marker = tmp_path / "res", tmp_path / "kills"
    workers = []

    def replace_the_lost_worker(address):
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the run sees the cluster without a worker first
        workers.append(_external_worker(address))

    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1",
                                  dashboard_address=None,
                                  scheduler_kwargs={"allowed_failures": 1}) as cluster:
        workers.append(_external_worker(cluster.scheduler_address))
        helper = threading.Thread(target=replace_the_lost_worker,
                                  args=(cluster.scheduler_address,), daemon=True)
        helper.start()
        try:
            _run(tiny, out, cluster.scheduler_address,
                 measure=KillWorker(marker, 8, "forward", times=1))
        finally:
            helper.join(timeout=130)
            for worker in workers:
                worker.kill()
    assert marker.read_text() == "1" and len(workers) == 2
    df = _points(out)
    assert len(df) == 8 and (df["status"] == "ok").all()
    assert "left the cluster (no worker is left); waiting up to 30 s" in capsys.readouterr().err
