"""The one exception type EM Lab raises for bad input."""


class DataError(ValueError):
    """Bad input: the message names the file, the line, what was wrong and the fix.

    It is a ``ValueError``, so callers that already catch ``ValueError`` keep working.
    """
