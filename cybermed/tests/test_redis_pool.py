import threading

from django.core.cache.backends.redis import RedisCache

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
