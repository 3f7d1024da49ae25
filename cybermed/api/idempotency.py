"""`@idempotent`: make a DRF handler honour the `Idempotency-Key` header (see cybermed.idempotency).

Apply it to any APIView method or ViewSet action handler, under `@action` when there is one:

    @action(detail=True, methods=["post"])
    @idempotent
    def payment(self, request, pk): ...

    @idempotent
    def create(self, request, *args, **kwargs): ...

Authentication, permissions and throttles run before the handler (a 401/403/429 is never stored). Without
the header the handler runs as before. The project AutoSchema documents the header (and the 409
`idempotency_conflict`) for every handler marked this way.
"""

import functools
from collections.abc import Callable

from django.db import transaction
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cybermed import idempotency

REPLAYED_HEADER = "Idempotent-Replayed"


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: object, **kwargs: object) -> Response:
        key = request.headers.get(idempotency.HEADER)
        # Keys are per user (anonymous calls run as before) and for writes (a GET of the same action ignores them).
        if key is None or not request.user.is_authenticated or request.method in SAFE_METHODS:
            return handler(view, request, *args, **kwargs)
        if not idempotency.valid_key(key):
            return Response({idempotency.HEADER: ["Must be 1 to 255 printable ASCII characters."]}, status=400)

        def call() -> idempotency.StoredResponse:
            try:
                with transaction.atomic():  # a failed handler leaves the key's transaction usable
                    response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - answered (and stored) exactly as DRF would answer it
                response = view.handle_exception(exc)
            call.response = response  # type: ignore[attr-defined]
            return idempotency.StoredResponse(response.status_code, response.data)

        fingerprint = idempotency.request_fingerprint(method=request.method, path=request.path, body=request.data)
        stored, replayed = idempotency.run_once(user_id=request.user.pk, key=key, fingerprint=fingerprint, call=call)
        if not replayed:
            return call.response  # type: ignore[attr-defined]
        return Response(stored.body, status=stored.status_code, headers={REPLAYED_HEADER: "true"})

    wrapper.idempotent = True  # type: ignore[attr-defined]  # read by cybermed.api.schema
    return wrapper
