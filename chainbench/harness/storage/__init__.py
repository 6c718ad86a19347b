"""A results folder: the typed row of a point (``row``), points.csv (``points_csv``),
meta.json and the experiment (``results``), and the lock of the run that owns it (``lock``)."""
