"""One Redis connection pool per process for Django's cache (CACHES' `pool_class`).

Django keeps a cache backend instance, and with it a connection pool, per thread. Under ASGI every
request's synchronous code runs in a thread of its own, so each request built a new pool and opened a
new TCP connection to Redis for its first cache read (the user lookup of authentication): a fifth of a
message POST's CPU under uvicorn (bench/realtime.py, py-spy). redis-py's pools are thread-safe and
start afresh in a forked child, so one per process, shared by every thread, is all that is needed.
"""

import threading
from typing import Any

import redis

_pools: dict[tuple, redis.ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = super().from_url(url, **kwargs)
            return pool
