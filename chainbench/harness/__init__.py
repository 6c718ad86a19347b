"""The measurement harness, by responsibility; imports go down this list only:

- ``experiment``  what an experiment asks for: its TOML read and checked into points
- ``storage``     a results folder: its rows (points.csv), meta.json and its owner's lock
- ``analysis``    fits and the tables read from a results folder
- ``run``         measuring points: one point, the loop, the in-process sweep, timing,
                  memory, guards, threads, the reporter and a run's entry in meta.json
- ``cluster``     the loop's executor on Dask
- ``tools``       side tools over a chain: accuracy, speed check, handwritten, compare
"""
