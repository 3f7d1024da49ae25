import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from fhir.resources.R4B import get_fhir_model_class

# A Monday; every date in these tests is built from it, so they hold whatever the real (or shifted) clock.
NOW = dt.datetime(2030, 6, 3, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[dt.datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW


def validate(resource: dict) -> dict:
    """Parse `resource` with the fhir.resources model of its type (R4B: the same shapes as R4 for these
    resources); any invalid element, cardinality or code raises. Bundles validate their entries too."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    for entry in resource.get("entry", []):
        validate(entry["resource"])
    return resource


@pytest.fixture
def fhir_get(client_for) -> Callable:
    """GET as `user`; asserts the FHIR media type and that the body validates; returns (status, body)."""

    def get(user, path: str, **params) -> tuple[int, dict]:
        r = client_for(user).get(path, params)
        assert r["Content-Type"].startswith("application/fhir+json"), r["Content-Type"]
        body = r.json()
        validate(body)
        return r.status_code, body

    return get
