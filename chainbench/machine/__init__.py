"""What this machine is, measured: per-call overhead, compute rate and bandwidth by working
set (``calibrate``), the levels of its memory hierarchy found from that curve (``levels``),
and the cached profile every run and the CI gate read (``profile``)."""
