"""Domain errors shared by every app. The API layer turns conflicts into `409 {"detail", "code"}` and failed
authentication into `401 {"detail", "code"}`."""

import functools

from django.db.models import Model, UniqueConstraint


class DomainError(Exception):
    """An error a service raises for the API layer to answer with `{"detail", "code"}`: a detail for people
    (the class's default unless given) and a stable code for programs."""

    code = "error"
    default_detail = "The request could not be completed."

    def __init__(self, detail: str | None = None, code: str | None = None) -> None:
        self.detail = detail or self.default_detail
        self.code = code or self.code
        super().__init__(self.detail)


class DomainConflict(DomainError):
    """A request that is well formed but conflicts with the current state of the data."""

    code = "conflict"
    default_detail = "The request conflicts with the current state."


class AuthenticationError(DomainError):
    """Credentials or a token that do not identify an active account (not a conflict: nothing about the data)."""

    code = "authentication_failed"
    default_detail = "Incorrect authentication credentials."


class UpstreamUnavailable(DomainError):
    """A service we depend on (PayPal) did not answer in time or failed: 503 with Retry-After, not a 500."""

    code = "upstream_unavailable"
    default_detail = "A service we depend on is not answering. Try again in a moment."
    retry_after = 30


class SlotUnavailable(DomainConflict):
    code = "slot_unavailable"
    default_detail = "That time is not available."


class InvalidTransition(DomainConflict):
    code = "invalid_transition"
    default_detail = "That status change is not allowed from the current status."


class AlreadyExists(DomainConflict):
    code = "already_exists"
    default_detail = "That object already exists."


class BookingLimit(DomainConflict):
    code = "booking_limit"
    default_detail = "You already hold the maximum number of active upcoming appointments."


class NoticeRequired(DomainConflict):
    code = "notice_required"
    default_detail = "This is inside the doctor's notice window; ask the clinic to do it."


class IdempotencyConflict(DomainConflict):
    code = "idempotency_conflict"
    default_detail = "This Idempotency-Key was already used with a different request."


# Database constraint names that back a domain rule, mapped to the conflict they signal. Apps register
# their constraints' names (taken from the models) so that a violation caught only by the database
# (under concurrency) gets the same 409 as one caught by the service's check.
CONSTRAINT_CONFLICTS: dict[str, type[DomainConflict]] = {}

SQLITE_UNIQUE = "UNIQUE constraint failed: "
SQLITE_CHECK = "CHECK constraint failed: "


def register_constraint_conflict(constraint_name: str, conflict: type[DomainConflict]) -> None:
    CONSTRAINT_CONFLICTS[constraint_name] = conflict


def register_unique_constraints(model: type[Model], conflict: type[DomainConflict]) -> None:
    """Map every UniqueConstraint declared on `model` to `conflict`."""
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint):
            register_constraint_conflict(constraint.name, conflict)


@functools.cache
def _unique_constraints_by_columns() -> dict[tuple[str, ...], str]:
    """Every model UniqueConstraint over plain fields, keyed by the `table.column`s SQLite names in its message."""
    from django.apps import apps

    names: dict[tuple[str, ...], str] = {}
    for model in apps.get_models():
        table = model._meta.db_table
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.fields:
                columns = tuple(f"{table}.{model._meta.get_field(f).column}" for f in constraint.fields)
                names[columns] = constraint.name
    return names


def constraint_name(error: Exception) -> str | None:
    """The name of the constraint an IntegrityError reports, or None when it names none (NOT NULL, FOREIGN KEY).

    PostgreSQL says it in the error's diagnostics. SQLite only has a message: a CHECK or an expression index
    is named there, a unique constraint over fields by its columns."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None:
        return diag.constraint_name
    message = str(error)
    if message.startswith(SQLITE_CHECK):
        return message.removeprefix(SQLITE_CHECK)
    if message.startswith(SQLITE_UNIQUE):
        detail = message.removeprefix(SQLITE_UNIQUE)
        if detail.startswith("index '") and detail.endswith("'"):
            return detail.removeprefix("index '").removesuffix("'")
        return _unique_constraints_by_columns().get(tuple(detail.split(", ")))
    return None


def conflict_for_integrity_error(error: Exception) -> DomainConflict:
    conflict = CONSTRAINT_CONFLICTS.get(constraint_name(error) or "")
    if conflict is not None:
        return conflict()
    return AlreadyExists("The request conflicts with existing data.")
