"""Default time budgets of the interactive commands, here alone so that the command line can
name them in ``--help`` without importing the engines (and Numba)."""

#: compare: a mode the time model predicts slower than this per Jacobian call is skipped.
COMPARE_S = 2.0

#: accuracy: a whole step sweep predicted longer than this is refused.
ACCURACY_S = 120.0
