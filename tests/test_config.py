"""Experiment files: parsing, grid expansion, width profiles, shipped experiments."""

import json

import numba
import pytest

from chainbench.harness.experiment import config
from chainbench.harness.experiment.config import ConfigError, hidden_widths, parse
from chainbench.harness.run.threads import check_threads


def test_grid_expands_to_every_combination():
    exp = parse('[grid]\nn = [4, 8]\nm = [1, "n"]\ndepth = [1, 3]\n'
                'modes = ["forward", "reverse"]\nchunk = [1, "n"]\n')
    points = exp.points()
    # forward takes both chunks, reverse only its default: 2 n × 2 m × 2 depth × (2 + 1)
    assert len(points) == 24
    assert {p.chunk for p in points if p.mode == "reverse"} == {"default"}
    assert any(p.m == p.n == 8 for p in points)


def test_several_grids_are_joined_without_duplicates():
    exp = parse("[[grid]]\nn = [4, 8]\n[[grid]]\nn = [8, 16]\n")
    assert sorted({p.n for p in exp.points()}) == [4, 8, 16]
    assert len(exp.points()) == 6  # 3 n × 2 default modes, n = 8 once


def test_point_spec_builds_the_standard_chain():
    (p,) = [q for q in parse('[grid]\nn = [5]\nm = [2]\ndepth = [2]\nmodes = ["reverse"]\n')
            .points()]
    assert p.spec == "dense:5 tanh dense:5 tanh dense:2"
    assert p.shape.widths == (5, 5, 5, 5, 5, 2)


@pytest.mark.parametrize("width, expected", [
    ("square", (100, 100, 100, 100)),
    ("hourglass", (1000, 1000, 10, 1000)),
    (7, (7, 7, 7, 7)),
    ([3, 2], (3, 2)),
])
def test_width_profiles(width, expected):
    n = 1000 if width == "hourglass" else 100
    assert hidden_widths(n, 4, width) == expected


def test_explicit_widths_set_depth():
    (fwd, _) = parse("[grid]\nn = [6]\nwidth = [[4, 2, 4]]\n").points()
    assert fwd.widths == (6, 4, 2, 4, 1) and fwd.depth == 3 and fwd.width == "4-2-4"


def test_shipped_experiments_parse_and_quick_is_small():
    shipped = config.shipped()
    assert {"quick", "gradient_scaling", "square_vs_tall", "depth_memory",
            "chunk_size"} <= set(shipped)
    for path in shipped.values():
        assert config.load(path).points()
    quick = config.resolve(None)
    assert quick.name == "quick" and len(quick.points()) <= 60  # ~15 s warm on 2 cores


def test_resolve_by_name_and_errors(tmp_path):
    assert config.resolve("chunk_size").name == "chunk_size"
    with pytest.raises(ConfigError, match="is a directory"):
        config.load(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(bad)


@pytest.mark.parametrize("text, message", [
    ('[grid]\nn = [4]\nwidth = ["wide"]\n', "grid.width: 'wide'"),
    ('[grid]\nn = [4]\nactivation = ["dense"]\n', "grid.activation: 'dense' is not one of"),
    ("[grid]\nn = [4]\nchunk = [0]\n", "grid.chunk: 0"),
    ("[grid]\nn = [true]\n", "grid.n: True"),
    ("[grid]\nm = [1]\n", "[grid] needs n"),
    ("[grid]\nn = [4]\n[measure]\nmin_samples = 2.5\n", "measure.min_samples: 2.5"),
    ("[grid]\nn = [4]\n[measure]\nmemory = 1\n", "measure.memory: 1 is not true or false"),
    ('name = "a/b"\n[grid]\nn = [4]\n', "name: 'a/b' is not a plain folder name"),
])
def test_invalid_fields_are_named(text, message):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert message in str(err.value)


# --- names are folder names; threads fit the machine -------------------------------------


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../up", "", "-x", ".hidden", "a b", "a\\b",
                                  "x" * 101, "é", "/abs"])
def test_experiment_name_must_be_a_plain_folder_name(name):
    with pytest.raises(ConfigError, match="is not a plain folder name") as err:
        parse(f"name = {json.dumps(name)}\n[grid]\nn = [4]\n")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["quick", "my_sweep-2.b", "A1", "x" * 100])
def test_plain_names_are_accepted(name):
    assert parse(f'name = "{name}"\n[grid]\nn = [4]\n').name == name


def test_name_not_a_string_is_refused():
    with pytest.raises(ConfigError, match="1 is not a plain folder name"):
        parse("name = 1\n[grid]\nn = [4]\n")


@pytest.mark.parametrize("stem, name", [("my experiment", "my_experiment"), ("..x", "x"),
                                        ("<string>", "string"), ("...", "experiment")])
def test_name_from_the_file_name_is_made_plain(tmp_path, stem, name):
    path = tmp_path / f"{stem}.toml"
    path.write_text("[grid]\nn = [4]\n")
    assert config.load(path).name == name


@pytest.mark.parametrize("threads, message", [
    (64, "--threads 64: this process may use 2 CPUs; give --threads 1 to 2"),
    (3, "--threads 3: this process may use 2 CPUs"),
    (0, "--threads must be ≥ 1 (an integer), got 0"),
    (True, "--threads must be ≥ 1 (an integer), got True"),
])
def test_more_threads_than_cpus_is_refused(threads, message, monkeypatch):
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 8)
    with pytest.raises(ConfigError) as err:
        check_threads(threads, cpus=2)
    assert message in str(err.value)


def test_threads_within_the_cpus_pass(monkeypatch):
    assert check_threads(1) == 1
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 8)
    assert check_threads(2, cpus=2) == 2


def test_threads_beyond_numbas_pool_are_refused(monkeypatch):
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    with pytest.raises(ConfigError, match=r"Numba's thread pool holds 1 \(NUMBA_NUM_THREADS\)"):
        check_threads(2, cpus=4)
