"""The one start-up error type: the runner turns any of these into one line and exit code 1."""


class StartupError(RuntimeError):
    """The process cannot start: its message says why, in one line (a file and a reason)."""
