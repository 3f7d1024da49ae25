"""The floors: each list page with the least work plain Django can do.

For every list endpoint, the same page (same rows, same fields nested the same way, same order, same count,
`next`/`previous` links built the way DRF's page-number pagination builds them) rendered with `.values()` and
`JsonResponse`: no DRF, no serializers, no JWT (the caller is a trusted `?user=<id>` and, where the rows
depend on it, `&role=doctor|patient`; bench only, wired by `bench/urls.py`, never deployed). A user is either
a doctor or a patient, so filtering on the one column of their role selects exactly the rows of the API's
"doctor or patient" filter, and lets PostgreSQL walk the (doctor|patient, ...) index in order. The API's
throughput is reported as a ratio of these (bench/run.py); `bench/tests/test_floor.py` proves each floor
returns the API's JSON for the same user.

| floor | API |
|---|---|
| `/bench/floor/appointments/?user=&role=` | `GET /api/appointments/` |
| `/bench/floor/doctors/` | `GET /api/doctors/` (the directory, no filter) |
| `/bench/floor/notifications/?user=` | `GET /api/notifications/` |
| `/bench/floor/threads/?user=&role=` | `GET /api/threads/` |
"""

import datetime as dt
from collections.abc import Callable
from functools import partial
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, JsonResponse

from appointments.models import Appointment
from cybermed.api.lists import drf_datetime
from cybermed.currencies import format_amount
from messaging.choices import MessageStatus
from messaging.models import Message, Thread
from notifications.models import Notification
from users.models import User
from users.selectors import doctor_list_visible

ROLE_COLUMN = {"doctor": "doctor_id", "patient": "patient_id"}


class Encoder(DjangoJSONEncoder):
    """Datetimes as DRF writes them (microseconds kept, UTC as `Z`); Django's encoder cuts to milliseconds."""

    def default(self, o: object) -> object:
        if isinstance(o, dt.datetime):
            return drf_datetime(o)
        return super().default(o)


def _bad_request(what: str) -> JsonResponse:
    return JsonResponse({"detail": f"{what} required (page and page_size optional)"}, status=400)


def _page(request: HttpRequest) -> tuple[int, int]:
    """`page` (from 1) and `page_size` (1..100, default 20), as the API's StandardPagination reads them."""
    return max(1, int(request.GET.get("page", 1))), min(100, max(1, int(request.GET.get("page_size", 20))))


def _with_page(url: str, page: int | None) -> str:
    # DRF's replace_query_param / remove_query_param: the query re-encoded in sorted key order.
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params.pop("page", None)
    if page is not None:
        params["page"] = [str(page)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def _respond(
    request: HttpRequest, qs: QuerySet, page: int, size: int, rows: QuerySet, render: Callable[[dict], dict]
) -> JsonResponse:
    """The page of `rows` (the `.values()` of `qs`), each rendered, with `qs`'s count and DRF's page links."""
    offset = (page - 1) * size
    results = [render(row) for row in rows[offset : offset + size]]
    count = qs.count()
    url = request.build_absolute_uri()
    body = {
        "count": count,
        "next": _with_page(url, page + 1) if page * size < count else None,
        "previous": None if page == 1 else _with_page(url, page - 1 if page > 2 else None),
        "results": results,
    }
    return JsonResponse(body, encoder=Encoder, json_dumps_params={"separators": (",", ":")})


def _pick(row: dict, columns: dict[str, str]) -> dict:
    """The JSON object of `columns` (key -> the row's column that holds its value), in the table's order."""
    return {key: row[column] for key, column in columns.items()}


def _specialty(row: dict, profile: str) -> dict | None:
    specialty_id = row[f"{profile}specialty_id"]
    return None if specialty_id is None else {"id": specialty_id, "name": row[f"{profile}specialty__name"]}


# Each list's JSON as tables of key -> column; a nested object has a table (or a function) of its own.
DOCTOR_BRIEF = {"id": "doctor_id", "first_name": "doctor__first_name", "last_name": "doctor__last_name"}
PATIENT_BRIEF = {"id": "patient_id", "first_name": "patient__first_name", "last_name": "patient__last_name"}
APPOINTMENT = {
    "start": "start",
    "end": "end",
    "reason_for_visit": "reason_for_visit",
    "status": "status",
    "location": "location",
    "cancellation_reason": "cancellation_reason",
    "referred_to": "referred_to__id",
    "referred_from": "referred_from_id",
    "created_by": "created_by_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
PAYMENT = {
    "status": "payment__status",
    "amount": "payment__amount",
    "currency": "payment__currency",
    "hold_expires_at": "payment__hold_expires_at",
}
APPOINTMENT_COLUMNS = (
    "id",
    *DOCTOR_BRIEF.values(),
    "doctor__doctor_profile__specialty_id",
    "doctor__doctor_profile__specialty__name",
    *PATIENT_BRIEF.values(),
    *APPOINTMENT.values(),
    *PAYMENT.values(),
)
NOT_REQUIRED = {"status": "not_required", "amount": None, "currency": None, "hold_expires_at": None}


def _payment(row: dict) -> dict:
    if row["payment__status"] is None:
        return NOT_REQUIRED
    return {**_pick(row, PAYMENT), "amount": format_amount(row["payment__amount"], row["payment__currency"])}


def _appointment(row: dict) -> dict:
    return {
        "id": row["id"],
        "doctor": {**_pick(row, DOCTOR_BRIEF), "specialty": _specialty(row, "doctor__doctor_profile__")},
        "patient": _pick(row, PATIENT_BRIEF),
        **_pick(row, APPOINTMENT),
        "payment": _payment(row),
    }


def appointment_list_floor(request: HttpRequest) -> JsonResponse:
    try:
        user_id = int(request.GET["user"])
        column = ROLE_COLUMN[request.GET["role"]]
        page, size = _page(request)
    except (KeyError, ValueError):
        return _bad_request("user and role (doctor|patient)")
    qs = Appointment.objects.filter(**{column: user_id}).order_by("start", "id")
    return _respond(request, qs, page, size, qs.values(*APPOINTMENT_COLUMNS), _appointment)


# The profile's fields the directory shows under their own names.
DOCTOR_PROFILE = {key: f"doctor_profile__{key}" for key in ("experience_years", "clinic_name", "clinic_address", "bio")}
DOCTOR_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "doctor_profile__specialty_id",
    "doctor_profile__specialty__name",
    *DOCTOR_PROFILE.values(),
    "profile_picture",
)


def doctor_list_floor(request: HttpRequest) -> JsonResponse:
    """The directory without filters: verified doctors by name (the API's default order)."""
    try:
        page, size = _page(request)
    except ValueError:
        return _bad_request("nothing but page/page_size is")
    qs = doctor_list_visible().order_by("last_name", "first_name", "pk")
    storage = User._meta.get_field("profile_picture").storage

    def render(row: dict) -> dict:
        return {
            "id": row["id"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "specialty": _specialty(row, "doctor_profile__"),
            **_pick(row, DOCTOR_PROFILE),
            # DRF's ImageField: the absolute URL of the file, null when there is none.
            "profile_picture": (
                request.build_absolute_uri(storage.url(row["profile_picture"])) if row["profile_picture"] else None
            ),
        }

    return _respond(request, qs, page, size, qs.values(*DOCTOR_COLUMNS), render)


NOTIFICATION = {
    "id": "id",
    "kind": "kind",
    "title": "title",
    "message": "message",
    "appointment": "appointment_id",
    "data": "data",
    "is_read": "is_read",
    "created_at": "created_at",
}


def notification_list_floor(request: HttpRequest) -> JsonResponse:
    """The user's notifications, newest first."""
    try:
        user_id = int(request.GET["user"])
        page, size = _page(request)
    except (KeyError, ValueError):
        return _bad_request("user")
    qs = Notification.objects.filter(user_id=user_id).order_by("-created_at", "-id")
    return _respond(request, qs, page, size, qs.values(*NOTIFICATION.values()), partial(_pick, columns=NOTIFICATION))


LAST_MESSAGE = {
    "sender": "last_message__sender_id",
    "body": "last_message__body",
    "created_at": "last_message__created_at",
    "status": "last_message__status",
}
THREAD_COLUMNS = (
    "id",
    "patient_id",
    "patient__first_name",
    "patient__last_name",
    "patient__email",
    "patient__role",
    "doctor_id",
    "doctor__first_name",
    "doctor__last_name",
    "doctor__email",
    "last_message_id",
    *LAST_MESSAGE.values(),
    "unread",
    "updated_at",
)


def _full_name(row: dict, person: str) -> str:
    # User.get_full_name() or the email, as notifications.formatting names people.
    return f"{row[f'{person}__first_name']} {row[f'{person}__last_name']}".strip() or row[f"{person}__email"]


def _last_message(row: dict) -> dict | None:
    if row["last_message_id"] is None:
        return None
    message = {"id": row["last_message_id"], "thread": row["id"], **_pick(row, LAST_MESSAGE)}
    if message["status"] == MessageStatus.RETRACTED:
        message["body"] = ""
    return message


def _thread(row: dict) -> dict:
    return {
        "id": row["id"],
        "patient": row["patient_id"],
        "doctor": row["doctor_id"],
        "patient_name": ("Dr " if row["patient__role"] == "doctor" else "") + _full_name(row, "patient"),
        "doctor_name": "Dr " + _full_name(row, "doctor"),
        "last_message": _last_message(row),
        "unread": row["unread"],
        "updated_at": row["updated_at"],
    }


def thread_list_floor(request: HttpRequest) -> JsonResponse:
    """The user's message threads, most recent activity first, with the unread count and last message."""
    try:
        user_id = int(request.GET["user"])
        role = request.GET["role"]
        column = ROLE_COLUMN[role]
        page, size = _page(request)
    except (KeyError, ValueError):
        return _bad_request("user and role (doctor|patient)")
    unread = (
        Message.objects.filter(thread=OuterRef("pk"), status=MessageStatus.SENT, id__gt=OuterRef(f"{role}_read_up_to"))
        .exclude(sender_id=user_id)
        .order_by()
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = Thread.objects.filter(**{column: user_id}).order_by("-updated_at", "-id")
    rows = qs.annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
    return _respond(request, qs, page, size, rows.values(*THREAD_COLUMNS), _thread)
