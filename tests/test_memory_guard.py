"""The memory guard: what a point is planned to hold against the peak RSS measured in a fresh
process, the limits it reads (MemAvailable, cgroup, RLIMIT_AS), and a point that runs out of
memory recorded as failed while the sweep goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from chainbench import provenance
from chainbench.harness.run import point as point_mod
from chainbench.harness.run.memory import parameter_bytes, planned_bytes
from chainbench.model.chain import ChainShape

#: A fresh process measures one point and reports its peak RSS (VmHWM, reset through
#: /proc/self/clear_refs once everything is imported and compiled by a tiny point of the
#: same kind) above the RSS it had then.
PEAK_RSS = textwrap.dedent("""
    import json, sys
    from chainbench.harness.experiment.config import parse
    from chainbench.harness.run.point import measure_point

    n, mode = int(sys.argv[1]), sys.argv[2]

    def experiment(n):
        return parse(f'''
    [grid]
    n = [{n}]
    m = [1]
    depth = [2]
    modes = ["{mode}"]
    [measure]
    min_samples = 2
    min_seconds = 0.01
    max_seconds = 0.2
    ''')

    tiny = experiment(8)  # compile and allocate once, at a size that leaves no peak behind
    measure_point(tiny.points()[0], tiny.measure)
    exp = experiment(n)
    point = exp.points()[0]
    def status(field):  # bytes of a /proc/self/status field (VmRSS, VmHWM)
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

    with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the RSS now
        fh.write("5")
    before = status("VmRSS")
    row = measure_point(point, exp.measure)
    print(json.dumps({"status": row.status, "held": row.bytes_counted,
                      "delta": status("VmHWM") - before, "before": before}))
""")


def measured_peak(n: int, mode: str) -> dict:
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak RSS")
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(n), mode],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_planned_bytes_are_within_1_3x_of_the_peak_rss_measured(mode):
    # two 3000×3000 layers, 72 MB each: above glibc's largest mmap threshold (32 MiB), so
    # freed temporaries go back to the OS and the peak RSS is what the point held
    n = 3000
    got = measured_peak(n, mode)
    assert got["status"] == "ok"
    shape = ChainShape.from_spec(f"dense:{n} tanh dense:{n} tanh dense:1", n)
    planned = planned_bytes(shape, got["held"], 1)
    assert planned / 1.3 <= got["delta"] <= planned * 1.3, (planned, got)


def test_parameter_bytes_count_only_layers_with_parameters():
    from chainbench.model.chain import Chain

    spec = "dense:100 tanh dense:100 softmax dense:1"
    total, largest = parameter_bytes(ChainShape.from_spec(spec, 100))
    layers = Chain.from_spec(spec, 100).layers
    assert largest == 8 * (100 * 100 + 100)
    assert total == sum(layer.params.nbytes for layer in layers)  # small W: Wᵀ beside it


def test_available_memory_is_the_least_of_the_limits(monkeypatch, tmp_path):
    monkeypatch.setattr(provenance, "_mem_available", lambda: 20 * 2**30)
    monkeypatch.setattr(provenance, "_rlimit_room", lambda: None)
    (tmp_path / "memory.max").write_text("4294967296\n")
    (tmp_path / "memory.current").write_text(str(2**30) + "\n")
    room = provenance._cgroup_room(tmp_path)
    assert room == 3 * 2**30
    (tmp_path / "memory.max").write_text("max\n")
    assert provenance._cgroup_room(tmp_path) is None
    monkeypatch.setattr(provenance, "_cgroup_room", lambda: room)
    assert provenance.available_memory() == 3 * 2**30


def test_rlimit_as_counts_against_the_address_space_in_use():
    pytest.importorskip("resource")
    script = ("import resource; from chainbench import provenance as p; "
              "resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, resource.RLIM_INFINITY)); "
              "print(p._rlimit_room(), p.available_memory())")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    room, available = map(int, out.stdout.split())
    assert 0 < room < 8 * 2**30 and available <= room


def test_a_point_out_of_memory_is_failed_and_the_sweep_goes_on(tiny, tmp_path, monkeypatch):
    from chainbench.cli import main
    from chainbench.harness.run import sweep
    from chainbench.harness.storage.points_csv import load_points

    real = point_mod.measure_chain

    def starved(chain, engine, *args, **kwargs):
        if chain.n == 4 and engine == "reverse":
            raise MemoryError("Unable to allocate 74.5 GiB")
        return real(chain, engine, *args, **kwargs)

    monkeypatch.setattr(point_mod, "measure_chain", starved)
    monkeypatch.setattr(sweep, "measure_point", point_mod.measure_point)
    assert main(["run", str(tiny), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    df = load_points(tmp_path / "r")
    failed = df[df["status"] == "failed"]
    assert set(failed["engine"]) == {"reverse"} and (failed["n"] == 4).all()
    assert failed["reason"].str.contains("out of memory").all()
    assert (df["status"] == "ok").sum() == len(df) - len(failed)


def test_compare_refuses_a_chain_that_cannot_fit(capsys):
    from chainbench.cli import main

    assert main(["compare", "dense:100000 dense:1", "--n", "100000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GiB are available" in err


def test_a_plan_over_billions_of_lanes_is_priced_without_listing_its_sweeps(capsys):
    """Plans hold evenly split lane blocks as (total, chunk): predicting, and refusing, a
    chain as wide as a spec allows takes no memory in proportion to n."""
    from chainbench.cli import main
    from chainbench.cost.sweeps import forward_plan

    n = 2_000_000_000
    plan = forward_plan(ChainShape.from_spec("dense:2 dense:2", n), chunk=3)
    assert len(plan.lane_blocks) == -(-n // 3) and plan.lane_blocks[-1] == (n - 2, 2)
    assert plan.prediction().sweeps_forward == -(-n // 3)
    assert main(["compare", "dense:2 dense:2", "--n", str(n)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GiB are available" in err
