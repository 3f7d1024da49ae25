"""Domain errors shared by every app. The API layer turns each into `409 {"detail", "code"}`."""


class DomainConflict(Exception):
    """A request that is well formed but conflicts with the current state of the data."""

    code = "conflict"
    default_detail = "The request conflicts with the current state."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


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


# Database constraint names that back a domain rule, mapped to the conflict they signal. Apps add
# their constraint names here so that a violation caught only by the database (under concurrency)
# gets the same 409 as one caught by validation.
CONSTRAINT_CONFLICTS: dict[str, type[DomainConflict]] = {}


def register_constraint_conflict(constraint_name: str, conflict: type[DomainConflict]) -> None:
    CONSTRAINT_CONFLICTS[constraint_name] = conflict


def conflict_for_integrity_error(error: Exception) -> DomainConflict:
    message = str(error)
    for name, conflict in CONSTRAINT_CONFLICTS.items():
        if name in message:
            return conflict()
    return AlreadyExists("The request conflicts with existing data.")
