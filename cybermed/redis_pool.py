"""One Redis connection pool per process for Django's cache (CACHES' `pool_class`), and one client per pool.

Django keeps a cache backend instance, and with it a connection pool, per thread. Under ASGI every
request's synchronous code runs in a thread of its own, so each request built a new pool and opened a
new TCP connection to Redis for its first cache read (the user lookup of authentication): a fifth of a
message POST's CPU under uvicorn (bench/realtime.py, py-spy). redis-py's pools are thread-safe and
start afresh in a forked child, so one per process, shared by every thread, is all that is needed.
"""

import threading
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

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


_clients: dict[redis.ConnectionPool, redis.Redis] = {}


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's Redis cache client, with one `redis.Redis` per pool (so per process) instead of one per call.

    Django builds a new `redis.Redis` for every cache operation; building one costs more CPU than the GET it
    then sends (py-spy: 4 % of a message POST's samples under uvicorn, in the user lookup alone). A
    `redis.Redis` holds no connection of its own between commands (it borrows one from the pool for each) and
    is thread-safe, so one per pool serves every call. It is kept beside the pool, not on this client: Django
    makes a cache backend per thread, and in async code per task (every open WebSocket touches the cache), and
    a `redis.Redis` weighs about 16 KiB.
    """

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)
        if not isinstance(pool, SharedConnectionPool):
            return super().get_client(key, write=write)  # a pool per backend instance: keeping clients would leak
        client = _clients.get(pool)
        if client is None:
            with _lock:
                client = _clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    """CACHES' backend with REDIS_URL: Django's, with the client above and the shared pool by default."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._options = {"pool_class": SharedConnectionPool, **self._options}
