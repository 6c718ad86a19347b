"""What this machine is, measured, as one profile: per-call overhead, compute rate and
bandwidth by working set (``calibrate``), the levels of its memory hierarchy found from that
curve (``levels``), chainbench's own costs on it (``overheads``, measured by ``own_costs``),
and the cached profile every run, the time model and the CI gate read (``profile``,
``current``)."""
