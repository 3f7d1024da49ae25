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
