import pytest


@pytest.mark.django_db
def test_anonymous_health_reports_database_ok(api_client):
    r = api_client.get("/api/health/")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "database": "ok"})


@pytest.mark.django_db
def test_anonymous_unknown_path_gets_json_404(client):
    r = client.get("/no/such/page/")
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_patient_lone_surrogate_echoed_in_error_is_400_not_500(client_for, patient):
    r = client_for(patient).patch("/api/auth/me/", {"gender": "\ud800"}, format="json")
    assert r.status_code == 400
    assert "gender" in r.json()


@pytest.mark.django_db
def test_patient_non_ascii_text_round_trips(client_for, patient):
    r = client_for(patient).patch("/api/auth/me/", {"first_name": "Zoë 李"}, format="json")
    assert (r.status_code, r.json()["first_name"]) == (200, "Zoë 李")
