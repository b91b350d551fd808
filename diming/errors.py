"""The errors diming raises for bad input or a bad request.

Their message is a single line meant for the user (file, row, field, reason); the CLI prints it and
exits with status 1, or 2 when the command could not run at all because its project is missing or
is not a GeoPackage (:class:`NoProject`; the same status as a usage error). Anything else escaping a
command is a bug.
"""


class DimingError(Exception):
    """A user-facing, one-line error."""


class NoProject(DimingError):
    """The project file is missing or is not a GeoPackage: nothing could be done (exit status 2)."""
