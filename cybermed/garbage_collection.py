"""The garbage collector's settings for the ASGI server's process (cybermed/asgi.py).

CPython's default (a young-generation collection every 700 net allocations of container objects) made a server
under live-chat load collect its oldest generation every few seconds, and each of those passes walked the whole
heap with the GIL held: 76-295 ms during which no request and no socket of that process moved (bench/README.md,
"Real time"; measured with gc.callbacks in two uvicorn servers at 100-200 messages/s). That pause was the tail
of the delivery latency.

- Everything alive once the application is loaded (Django, the URLconf, the models: about 85 ms of a full
  collection on its own) moves to the permanent generation, which collections skip. Those objects live as long
  as the process anyway.
- The young generation is collected after 50,000 net allocations instead of 700, the middle one after 20 young
  collections instead of 10: objects that die young are freed by reference counting long before, so far fewer
  short-lived objects survive into older generations, and older-generation passes become rare (none in a
  40-second run of two servers, against 10 before). The cost is that cyclic garbage waits longer to be freed (a few MB).

The WSGI entry point (gunicorn) keeps CPython's defaults: not measured there.
"""

import gc

THRESHOLDS = (50_000, 20, 10)  # young, middle, old (CPython's defaults: 700, 10, 10)


def tune_for_serving() -> None:
    """Call once, at the end of the serving process's application module."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
