"""System tests start real gunicorn servers against a scratch PostgreSQL database and Redis, or a SQLite file."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system import servers


def pytest_collection_modifyitems(config, items) -> None:
    if servers.redis_reachable():
        return
    # The servers on a scratch PostgreSQL database share Redis; the SQLite ones run without it.
    skip = pytest.mark.skip(reason=f"needs Redis at {servers.REDIS_URL}")
    for item in items:
        if item.nodeid.startswith("tests/system/") and "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A migrated scratch database next to DATABASE_URL's, dropped after the module."""
    with servers.scratch_database(os.environ["DATABASE_URL"]) as url:
        yield url


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory) -> str:
    """A migrated SQLite file given as DATABASE_URL (sqlite:////abs/path), deleted with pytest's tmp dirs."""
    return servers.sqlite_database(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gunicorn")
