"""``cb.run(experiment)``: measure an experiment's points into a results folder, in this
process or on a Dask cluster, with the progress display that suits where it runs — a
notebook's bar (``tqdm.auto``) in Jupyter, the terminal's bar on a terminal, one line per
point elsewhere. ``chainbench run`` is this, plus its printing."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ConfigError


def check_options(threads, scheduler=None) -> None:
    """ConfigError unless ``threads`` suits where the points run: this machine's CPUs, or
    (with a ``scheduler``) any count ≥ 1, since a cluster's workers run elsewhere."""
    from ..harness.run.threads import check_threads

    if scheduler is None:
        check_threads(threads)
    elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"--threads must be ≥ 1, got {threads}")


def sweep(exp, out: Path, *, resume: bool = False, threads: int = 1, progress=None,
          scheduler: str | None = None, local_cluster: int | None = None,
          argv: list[str] | None = None, announce=None):
    """Run ``exp`` (a ``harness.experiment.config.Experiment``) into ``out`` or a fresh sibling; the
    ``harness.storage.results.ResultsDir`` written. ``progress`` is told of each point,
    ``announce(text)`` of what takes time besides them (calibration, compiles)."""
    from ..harness.run import sweep as in_process
    if scheduler is None and local_cluster is None:
        return in_process.run(exp, out, resume=resume, threads=threads, progress=progress,
                              announce=announce, argv=argv)
    from ..harness import cluster
    cluster.require()
    in_process.machine_profile(announce)  # the client's profile prices the guards
    return cluster.run(exp, out, scheduler=scheduler, local_workers=local_cluster,
                       resume=resume, threads=threads, progress=progress, argv=argv)


def experiment_of(experiment):
    """The ``harness.experiment.config.Experiment`` of a ``cb.Experiment``, of a shipped experiment's
    name or of a TOML file's path (None: the quick one)."""
    from ..harness.experiment import config
    from .experiment import Experiment

    if isinstance(experiment, Experiment):
        return experiment.spec
    if isinstance(experiment, config.Experiment):
        return experiment
    if experiment is None or isinstance(experiment, str | Path):
        return config.resolve(None if experiment is None else str(experiment))
    raise TypeError("run: give a cb.Experiment, a shipped experiment's name or a TOML "
                    f"file's path, not {type(experiment).__name__}")


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython's ZMQ shell)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def make_progress(exp, quiet: bool):
    """The progress display for ``exp``: a bar (the notebook kind in Jupyter), or one line
    per point when ``quiet``."""
    from importlib.util import find_spec

    from ..cli.progress import Progress

    # without ipywidgets tqdm.auto warns and draws the text bar: draw it without the warning
    widget = in_notebook() and find_spec("ipywidgets") is not None
    return Progress(quiet=quiet, points=exp.points(), policy=exp.measure, notebook=widget)


def run(experiment=None, out=None, resume: bool = False, progress: bool = True, *,
        threads: int = 1, scheduler: str | None = None, local_cluster: int | None = None):
    """Measure an experiment's points into a results folder, as ``chainbench run`` does.

    Parameters
    ----------
    experiment : Experiment, str or path-like, optional
        A ``cb.Experiment``, a shipped experiment's name or a TOML file's path (default:
        the quick one).
    out : str or path-like, optional
        The results folder (default ``results/NAME``); a folder that holds results
        already is never overwritten: the run goes to ``OUT-2``, ``OUT-3``, … instead.
    resume : bool, default False
        Continue an interrupted run in ``out``, measuring only the points it lacks.
    progress : bool, default True
        Show a progress bar (a notebook widget in Jupyter, the terminal's bar on a
        terminal, one line per point elsewhere); False shows nothing.
    threads : int, default 1
        Numba and BLAS threads, recorded in meta.json.
    scheduler : str, optional
        Address of a Dask cluster to send the points to (``tcp://host:8786``).
    local_cluster : int, optional
        Start a local Dask cluster of this many single-threaded workers.

    Returns
    -------
    Results
        The folder written, opened (``cb.load``).

    Raises
    ------
    ConfigError
        A bad experiment, option or folder; the message is the command line's.
    KeyboardInterrupt
        Interrupted: its ``folder`` attribute names the folder holding the finished
        points (``cb.load`` opens it; ``resume=True`` continues it).
    """
    from .results import Results

    check_options(threads, scheduler)
    exp = experiment_of(experiment)
    out = Path(out) if out is not None else Path("results") / exp.name
    shown = None
    if progress:
        shown = make_progress(exp, quiet=not (in_notebook() or sys.stderr.isatty()))
    try:
        written = sweep(exp, out, resume=resume, threads=threads, progress=shown,
                        scheduler=scheduler, local_cluster=local_cluster,
                        argv=["cb.run", exp.name],
                        announce=shown.announce if shown is not None else None)
    finally:
        if shown is not None:
            shown.close()
    return Results(written.path)
