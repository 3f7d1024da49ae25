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
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, JsonResponse

from appointments.models import Appointment
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
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
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


def _respond(request: HttpRequest, qs: QuerySet, page: int, size: int, rows: list[dict]) -> JsonResponse:
    count = qs.count()
    url = request.build_absolute_uri()
    body = {
        "count": count,
        "next": _with_page(url, page + 1) if page * size < count else None,
        "previous": None if page == 1 else _with_page(url, page - 1 if page > 2 else None),
        "results": rows,
    }
    return JsonResponse(body, encoder=Encoder, json_dumps_params={"separators": (",", ":")})


FIELDS = (
    "id",
    "doctor_id",
    "doctor__first_name",
    "doctor__last_name",
    "doctor__doctor_profile__specialty_id",
    "doctor__doctor_profile__specialty__name",
    "patient_id",
    "patient__first_name",
    "patient__last_name",
    "start",
    "end",
    "reason_for_visit",
    "status",
    "location",
    "cancellation_reason",
    "referred_to__id",
    "referred_from_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "payment__status",
    "payment__amount",
    "payment__currency",
    "payment__hold_expires_at",
)
NOT_REQUIRED = {"status": "not_required", "amount": None, "currency": None, "hold_expires_at": None}


def _payment(row: dict) -> dict:
    if row["payment__status"] is None:
        return NOT_REQUIRED
    return {
        "status": row["payment__status"],
        "amount": format_amount(row["payment__amount"], row["payment__currency"]),
        "currency": row["payment__currency"],
        "hold_expires_at": row["payment__hold_expires_at"],
    }


def appointment_list_floor(request: HttpRequest) -> JsonResponse:
    try:
        user_id = int(request.GET["user"])
        column = ROLE_COLUMN[request.GET["role"]]
        page, size = _page(request)
    except (KeyError, ValueError):
        return _bad_request("user and role (doctor|patient)")
    qs = Appointment.objects.filter(**{column: user_id}).order_by("start", "id")
    offset = (page - 1) * size
    results = [
        {
            "id": row["id"],
            "doctor": {
                "id": row["doctor_id"],
                "first_name": row["doctor__first_name"],
                "last_name": row["doctor__last_name"],
                "specialty": (
                    {
                        "id": row["doctor__doctor_profile__specialty_id"],
                        "name": row["doctor__doctor_profile__specialty__name"],
                    }
                    if row["doctor__doctor_profile__specialty_id"]
                    else None
                ),
            },
            "patient": {
                "id": row["patient_id"],
                "first_name": row["patient__first_name"],
                "last_name": row["patient__last_name"],
            },
            "start": row["start"],
            "end": row["end"],
            "reason_for_visit": row["reason_for_visit"],
            "status": row["status"],
            "location": row["location"],
            "cancellation_reason": row["cancellation_reason"],
            "referred_to": row["referred_to__id"],
            "referred_from": row["referred_from_id"],
            "created_by": row["created_by_id"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "payment": _payment(row),
        }
        for row in qs.values(*FIELDS)[offset : offset + size]
    ]
    return _respond(request, qs, page, size, results)


DOCTOR_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "doctor_profile__specialty_id",
    "doctor_profile__specialty__name",
    "doctor_profile__experience_years",
    "doctor_profile__clinic_name",
    "doctor_profile__clinic_address",
    "doctor_profile__bio",
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
    offset = (page - 1) * size
    results = [
        {
            "id": row["id"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "specialty": (
                {"id": row["doctor_profile__specialty_id"], "name": row["doctor_profile__specialty__name"]}
                if row["doctor_profile__specialty_id"] is not None
                else None
            ),
            "experience_years": row["doctor_profile__experience_years"],
            "clinic_name": row["doctor_profile__clinic_name"],
            "clinic_address": row["doctor_profile__clinic_address"],
            "bio": row["doctor_profile__bio"],
            # DRF's ImageField: the absolute URL of the file, null when there is none.
            "profile_picture": (
                request.build_absolute_uri(storage.url(row["profile_picture"])) if row["profile_picture"] else None
            ),
        }
        for row in qs.values(*DOCTOR_FIELDS)[offset : offset + size]
    ]
    return _respond(request, qs, page, size, results)


NOTIFICATION_FIELDS = ("id", "kind", "title", "message", "appointment_id", "data", "is_read", "created_at")


def notification_list_floor(request: HttpRequest) -> JsonResponse:
    """The user's notifications, newest first."""
    try:
        user_id = int(request.GET["user"])
        page, size = _page(request)
    except (KeyError, ValueError):
        return _bad_request("user")
    qs = Notification.objects.filter(user_id=user_id).order_by("-created_at", "-id")
    offset = (page - 1) * size
    results = [
        {
            "id": row["id"],
            "kind": row["kind"],
            "title": row["title"],
            "message": row["message"],
            "appointment": row["appointment_id"],
            "data": row["data"],
            "is_read": row["is_read"],
            "created_at": row["created_at"],
        }
        for row in qs.values(*NOTIFICATION_FIELDS)[offset : offset + size]
    ]
    return _respond(request, qs, page, size, results)


THREAD_FIELDS = (
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
    "last_message__sender_id",
    "last_message__body",
    "last_message__created_at",
    "last_message__status",
    "unread",
    "updated_at",
)


def _full_name(first: str, last: str, email: str) -> str:
    # User.get_full_name() or the email, as notifications.formatting names people.
    return f"{first} {last}".strip() or email


def _last_message(row: dict) -> dict | None:
    if row["last_message_id"] is None:
        return None
    retracted = row["last_message__status"] == MessageStatus.RETRACTED
    return {
        "id": row["last_message_id"],
        "thread": row["id"],
        "sender": row["last_message__sender_id"],
        "body": "" if retracted else row["last_message__body"],
        "created_at": row["last_message__created_at"],
        "status": row["last_message__status"],
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
    offset = (page - 1) * size
    results = [
        {
            "id": row["id"],
            "patient": row["patient_id"],
            "doctor": row["doctor_id"],
            "patient_name": (
                ("Dr " if row["patient__role"] == "doctor" else "")
                + _full_name(row["patient__first_name"], row["patient__last_name"], row["patient__email"])
            ),
            "doctor_name": "Dr "
            + _full_name(row["doctor__first_name"], row["doctor__last_name"], row["doctor__email"]),
            "last_message": _last_message(row),
            "unread": row["unread"],
            "updated_at": row["updated_at"],
        }
        for row in rows.values(*THREAD_FIELDS)[offset : offset + size]
    ]
    return _respond(request, qs, page, size, results)
