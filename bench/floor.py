"""The floor: the appointment list page with the least work plain Django can do.

Same rows (the caller's appointments, ordered by start then id), same fields and a count, as
`GET /api/appointments/?page_size=N`, rendered with `.values()` and `JsonResponse`: no DRF, no
serializers, no JWT (the caller is a trusted `?user=<id>&role=doctor|patient`; bench only). A user
is either a doctor or a patient, so filtering on the one column of their role selects exactly the
rows of the API's "doctor or patient" filter, and lets PostgreSQL walk the (doctor|patient, start)
index in order. The API's throughput is reported as a ratio of this one's.
"""

from django.http import HttpRequest, JsonResponse

from appointments.models import Appointment
from cybermed.currencies import format_amount

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
        column = {"doctor": "doctor_id", "patient": "patient_id"}[request.GET["role"]]
        page = max(1, int(request.GET.get("page", 1)))
        size = min(100, max(1, int(request.GET.get("page_size", 20))))
    except (KeyError, ValueError):
        return JsonResponse({"detail": "user, role (doctor|patient), page and page_size are required"}, status=400)
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
    return JsonResponse({"count": qs.count(), "next": None, "previous": None, "results": results})
