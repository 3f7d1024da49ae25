"""Test scaffolding shared by every app's tests: one copy of each helper.

Lives in the project package (not under one app's tests) so that any test module can import it; nothing in
the application imports it.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections
from django.dispatch import Signal

from cybermed.middleware import SERVICE_UNAVAILABLE

T = TypeVar("T")

HEALTH_UNAVAILABLE = {"status": "error", "database": "unavailable"}


def run_together(calls: list[Callable[[], T]], *, timeout: float = 60) -> list[T]:
    """Run every call in its own thread, all released at once by a barrier; return their results in order.

    Each thread gets its own database connection (closed when it is done, so the test database can be
    dropped). A call that raised, or did not finish in time, fails the test instead of vanishing with its thread.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: dict[int, BaseException] = {}

    def worker(index: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    hung = [i for i, thread in enumerate(threads) if thread.is_alive()]
    assert not hung, f"calls {hung} did not finish within {timeout}s"
    assert not errors, errors
    return results


@contextmanager
def capture_signal(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """Record the keyword arguments (without `signal` and `sender`) of every send of `signal` in the block."""
    calls: list[dict[str, Any]] = []
    uid = f"cybermed.testing.capture_signal.{id(calls)}"

    def receiver(sender: object, signal: Signal, **kwargs: Any) -> None:
        calls.append(kwargs)

    signal.connect(receiver, weak=False, dispatch_uid=uid)
    try:
        yield calls
    finally:
        signal.disconnect(dispatch_uid=uid)


def assert_json_503(response: Any) -> None:
    """The database-is-down answer: 503 JSON with Retry-After, and nothing of the driver's error.

    Takes a Django test response or a `requests` response (live servers)."""
    assert response.status_code == 503, (response.status_code, response.content[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Retry-After"] == "5"
    assert b"Traceback" not in response.content
    assert b"127.0.0.1" not in response.content  # the driver's message stays in our logs
    assert response.json() in (SERVICE_UNAVAILABLE, HEALTH_UNAVAILABLE)
