"""Django's PostgreSQL backend, whose per-request health check costs no round trip while nothing is wrong.

With CONN_HEALTH_CHECKS, Django asks a reused connection `SELECT 1` before each request's first query, so
that a connection PostgreSQL dropped while it sat idle (a restart, `pg_terminate_backend`, an idle timeout, a
proxy or failover cutting it) is replaced instead of failing the request. That round trip was a fixed share of
every request's server time (issue 19). A server that drops an idle connection always leaves something on its
socket: the FATAL message it writes before closing, or the end of the stream. So an idle connection whose socket
has nothing to read needs no question; any other one is asked `SELECT 1` as before.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


def _socket_has_input(fileno: int) -> bool:
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if (
            not self.errors_occurred  # after an error, ask the server itself
            and connection.info.transaction_status == TransactionStatus.IDLE
            and not _socket_has_input(connection.fileno())
        ):
            return True
        return super().is_usable()
