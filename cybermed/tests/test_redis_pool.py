import secrets
import threading

from django.core.cache.backends.redis import RedisCache

from cybermed import redis_pool
from cybermed.redis_pool import RedisCache as SharedClientRedisCache
from cybermed.redis_pool import SharedConnectionPool

SHARED = {"OPTIONS": {"pool_class": "cybermed.redis_pool.SharedConnectionPool"}}


def pool_in_new_thread(location: str, params: dict) -> object:
    """The pool a fresh cache backend instance uses, built in a thread of its own (as Django does per thread)."""
    found = []
    thread = threading.Thread(
        target=lambda: found.append(RedisCache(location, params)._cache._get_connection_pool(True))
    )
    thread.start()
    thread.join()
    return found[0]


def test_cache_instances_of_different_threads_share_one_pool():
    first = pool_in_new_thread("redis://127.0.0.1:6379/15", SHARED)
    second = pool_in_new_thread("redis://127.0.0.1:6379/15", SHARED)

    assert first is second


def test_another_server_gets_its_own_pool():
    assert pool_in_new_thread("redis://127.0.0.1:6379/14", SHARED) is not pool_in_new_thread(
        "redis://127.0.0.1:6379/15", SHARED
    )


def test_django_default_pool_is_per_instance():
    # Why the shared pool exists: without it every thread (every ASGI request) opened its own connection.
    assert pool_in_new_thread("redis://127.0.0.1:6379/15", {}) is not pool_in_new_thread(
        "redis://127.0.0.1:6379/15", {}
    )


def test_the_cache_clients_of_every_thread_share_one_redis_object_per_pool():
    first = SharedClientRedisCache("redis://127.0.0.1:6379/15", SHARED)
    client = first._cache.get_client()
    found = []
    thread = threading.Thread(
        target=lambda: found.append(SharedClientRedisCache("redis://127.0.0.1:6379/15", SHARED)._cache.get_client())
    )
    thread.start()
    thread.join()

    assert first._cache.get_client(write=True) is client  # one server: reads and writes share the pool
    assert found == [client]  # another thread's backend (Django keeps one per thread) uses it too
    assert client.connection_pool is first._cache._get_connection_pool(True)


def test_the_cache_shares_the_pool_by_default_and_keeps_no_client_for_a_pool_of_its_own():
    by_default = SharedClientRedisCache("redis://127.0.0.1:6379/15", {})
    assert isinstance(by_default._cache._get_connection_pool(True), SharedConnectionPool)

    kept = len(redis_pool._clients)
    own_pool = SharedClientRedisCache("redis://127.0.0.1:6379/15", {"OPTIONS": {"pool_class": "redis.ConnectionPool"}})
    own_pool.get("anything")
    assert len(redis_pool._clients) == kept  # such a pool dies with its cache backend: nothing may hold on to it


def test_the_cache_works_through_the_kept_client():
    cache = SharedClientRedisCache("redis://127.0.0.1:6379/15", {**SHARED, "KEY_PREFIX": secrets.token_hex(4)})

    cache.set("user", {"id": 1}, 30)
    assert cache.add("user", "other", 30) is False
    assert cache.get("user") == {"id": 1}
    assert cache.get_many(["user", "missing"]) == {"user": {"id": 1}}
    cache.set("hits", 0, 30)
    assert [cache.incr("hits"), cache.incr("hits")] == [1, 2]
    cache.delete_many(["user", "hits"])
    assert cache.get("user") is None
