"""The gate's one error type for bad input (exit status 2): a malformed flag or reference,
a reference commit missing from the clone, a worker that cannot start."""


class GateInputError(Exception):
    """Bad input to the gate; its message is the one line the CLI prints."""
