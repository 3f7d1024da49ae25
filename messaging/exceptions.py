class NotAllowed(Exception):
    """The caller may not do this (a 403 with the message as detail)."""
