import pytest
import yaml


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.django_db
def test_anonymous_schema_documents_bad_page_bad_filter_and_throttle_on_lists(schema):
    responses = schema["paths"]["/api/appointments/"]["get"]["responses"]
    assert {"200", "400", "401", "404", "429"} <= set(responses)
    assert responses["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.django_db
def test_anonymous_schema_marks_nullable_appointment_links_and_hh_mm_times(schema):
    appointment = schema["components"]["schemas"]["Appointment"]["properties"]
    assert appointment["referred_to"]["nullable"] is True
    assert appointment["referred_from"]["nullable"] is True
    rule = schema["components"]["schemas"]["AvailabilityRule"]["properties"]
    assert rule["start_time"]["pattern"] == r"^\d{2}:\d{2}$"


@pytest.mark.django_db
def test_anonymous_schema_health_has_no_throttle_response(schema):
    assert "429" not in schema["paths"]["/api/health/"]["get"]["responses"]
