"""The one error type diming raises for bad input or a bad request.

Its message is a single line meant for the user (file, row, field, reason); the CLI prints it and
exits with status 1. Anything else escaping a command is a bug.
"""


class DimingError(Exception):
    """A user-facing, one-line error."""
