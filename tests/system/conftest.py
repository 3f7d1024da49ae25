"""System tests start real gunicorn servers against a scratch PostgreSQL database and Redis."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system import servers


def pytest_collection_modifyitems(config, items) -> None:
    if servers.redis_reachable():
        return
    skip = pytest.mark.skip(reason=f"needs Redis at {servers.REDIS_URL}")
    for item in items:
        if item.nodeid.startswith("tests/system/"):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A migrated scratch database next to DATABASE_URL's, dropped after the module."""
    with servers.scratch_database(os.environ["DATABASE_URL"]) as url:
        yield url


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gunicorn")
