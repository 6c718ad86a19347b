"""A run's entry in meta.json: opened when the run starts (versions, machine, git commit,
threads, profile, and what the caller adds: workers, scheduler), closed when it ends — with
its end time and the tally of the points it wrote — also when it is interrupted."""

from __future__ import annotations

import contextlib
import sys
from contextlib import contextmanager
from pathlib import Path

from ...machine.current import current_profile
from ...provenance import git_commit, machine, now, versions
from ..experiment.config import Experiment
from ..storage.results import ResultsDir


def start_run(exp: Experiment, out: Path, *, resume: bool, argv: list[str] | None,
              **info) -> tuple[ResultsDir, dict, dict]:
    """Open the results folder and append this run's entry (versions, machine, git commit,
    and ``info``'s items) to meta.json; returns (results, meta, the run's entry)."""
    results = ResultsDir.open_for_run(out, resume, experiment=exp.name)
    try:
        return _open_entry(results, exp, resume, argv, info)
    except BaseException:
        results.release()
        raise


def _open_entry(results: ResultsDir, exp: Experiment, resume: bool, argv, info: dict):
    meta = results.read_meta() or {
        "experiment": exp.name, "description": exp.description, "experiment_file": exp.path,
        "experiment_sha256": exp.sha256, "runs": [],
    }
    if resume and meta.get("experiment_sha256") not in (None, exp.sha256):
        meta.setdefault("warnings", []).append(
            f"{now()}: resumed with an experiment file whose hash differs from the first run")
    info.setdefault("profile", current_profile().to_dict())
    run_info = {"started_at": now(), "ended_at": None, "resumed": resume,
                "argv": argv if argv is not None else sys.argv, "versions": versions(),
                "machine": machine(), "git_commit": git_commit(),
                "first_point": results.next_point_id(), **info}
    meta["runs"].append(run_info)
    results.write_meta(meta)
    return results, meta, run_info


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after its entry was closed as interrupted; ``folder`` is where
    its finished points are (to resume)."""

    def __init__(self, folder: Path):
        super().__init__(str(folder))
        self.folder = folder


@contextmanager
def owned(results: ResultsDir, meta: dict, run_info: dict):
    """The run's body: the folder stays this run's until it ends, and its entry in
    meta.json is closed either way — marked interrupted when the body did not finish."""
    with results:
        try:
            yield
        except BaseException as err:
            with contextlib.suppress(Exception):
                end_run(results, meta, run_info, interrupted=True)
            if isinstance(err, KeyboardInterrupt) and not isinstance(err, Interrupted):
                raise Interrupted(results.path) from None
            raise
        end_run(results, meta, run_info)


def end_run(results: ResultsDir, meta: dict, run_info: dict, interrupted: bool = False) -> None:
    """Close this run's entry: its end time and the tally of the points it wrote."""
    from ..analysis.tables import tally

    if interrupted:
        run_info["interrupted"] = True
    run_info["ended_at"] = now()
    run_info["tally"] = tally(_rows_since(results, run_info.get("first_point", 0)))
    results.write_meta(meta)


def _rows_since(results: ResultsDir, first: int):
    import pandas as pd

    from ..storage.points_csv import load_points

    if not results.points_file.exists():
        return pd.DataFrame(columns=["point", "status", "reason", "mode", "n"])
    df = load_points(results.path)
    return df[pd.to_numeric(df["point"], errors="coerce") >= first]
