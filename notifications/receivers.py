"""The only place signal receivers live."""
