"""gcdt's exception for its helpers."""


class GcdtError(Exception):
    """What gcdt's helpers raise for bad input."""
