import re

import pytest
import yaml
from django.conf import settings
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_with_account_paths_and_bearer_auth(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = response.json() if "json" in response["Content-Type"] else yaml.safe_load(response.content)
    validate_schema(document)  # against the OpenAPI 3.0 JSON schema; raises if invalid
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/auth/register/",
        "/api/auth/login/",
        "/api/auth/login/refresh/",
        "/api/auth/logout/",
        "/api/auth/me/",
        "/api/auth/password/change/",
        "/api/auth/password/reset/",
        "/api/auth/password/reset/confirm/",
        "/api/auth/activate/",
        "/api/auth/activate/resend/",
        "/api/doctor-profile/",
        "/api/patient-profile/",
        "/api/specialties/",
        "/api/doctors/",
        "/api/doctors/{id}/",
        "/api/doctors/{id}/verify/",
        "/api/patients/",
        "/api/patients/{id}/",
    ):
        assert path in document["paths"], path
    scheme = document["components"]["securitySchemes"]["jwtAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert document["paths"]["/api/auth/me/"]["get"]["security"] == [{"jwtAuth": []}]


def test_swagger_ui_is_served_with_local_assets():
    client = Client()

    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'src="([^"]+\.js)"', html)
    bundle = next(url for url in assets if "swagger-ui-bundle" in url)
    static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    assert bundle.startswith(static_prefix + "drf_spectacular_sidecar/")
    assert "unpkg.com" not in html
    assert "cdn.jsdelivr.net" not in html
    asset = client.get(bundle)
    assert asset.status_code == 200
    assert b"SwaggerUI" in b"".join(asset.streaming_content if asset.streaming else [asset.content])
