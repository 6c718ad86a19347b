"""The fuzzing suite: inputs drawn for the command line, experiment files, damaged results
folders and damaged profile caches, each run in a sandbox under a memory and a time limit,
and the invariants every command keeps (see docs/developing.md, "Fuzzing")."""
