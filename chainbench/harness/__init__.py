"""The measurement harness: experiments, timing and memory, sweeps, results and fits."""
