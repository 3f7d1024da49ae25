import pytest
from django.conf import settings
from django.test import Client

from users.tests.factories import PatientFactory

URL = "/admin/reports/clinicinsights/"
WEEK = "date_from=2030-03-25&date_to=2030-03-31"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_index_links_the_insights_page_for_staff(clinic, staff):
    page = logged_in(staff).get("/admin/").content.decode()
    assert URL in page
    assert "Clinic insights" in page


def test_staff_see_the_same_figures_as_the_api(clinic, staff):
    r = logged_in(staff).get(f"{URL}?{WEEK}&doctor={clinic.a.pk}")
    assert r.status_code == 200
    page = r.content.decode()
    assert "Europe/Berlin" in page  # one doctor: read in their zone, like the API
    for text in ("25.0%", "40.0%", "36.0 h", "<svg", "Anna Adler"):
        assert text in page
    assert "<script" not in page.split('<div id="content-main"')[1]
    assert r.context["summary"]["utilisation"] == 0.4


def test_filters_by_specialty(clinic, staff):
    r = logged_in(staff).get(f"{URL}?{WEEK}&specialty={clinic.b.doctor_profile.specialty_id}")
    assert [row["doctor_name"] for row in r.context["doctors"]] == ["Ben Brandt"]


def test_tiles_compare_with_the_previous_period(clinic, staff):
    r = logged_in(staff).get(f"{URL}?{WEEK}&doctor={clinic.a.pk}")
    tiles = {tile["label"]: tile for tile in r.context["tiles"]}
    # The week before holds only P1's earlier visit (18 March): 1 appointment, no no-shows.
    assert (tiles["Appointments"]["previous"], tiles["Appointments"]["delta"]) == ("1", "+7")
    assert (tiles["No-show rate"]["delta"], tiles["No-show rate"]["mood"]) == ("+25.0 pts", "bad")


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2030-03-31&date_to=2030-03-01",
        "date_from=2020-01-01&date_to=2030-01-01",
        "date_from=0001-01-01&date_to=9999-12-31",
        "date_from=nope&doctor=1e400&specialty=-1",
        "doctor=99999999999999999999999&specialty=99999999999999999999999",
        "date_from=2030-01-01&date_from=2030-02-01&tz=" + "x" * 200,
        "tz=localtime",
        "date_to=2030-01-01",
    ],
)
def test_bad_filters_show_the_form_errors_not_a_500(db, staff, query, frozen):
    r = logged_in(staff).get(f"{URL}?{query}")
    assert r.status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "patient"])
def test_others_are_sent_to_the_admin_login(db, who):
    client = Client() if who == "anonymous" else logged_in(PatientFactory())
    r = client.get(URL)
    assert r.status_code == 302
    assert r["Location"].startswith("/admin/login/")


def test_insights_page_in_a_real_browser(clinic, staff, live_server, browser, screenshot):
    session = logged_in(staff).cookies[settings.SESSION_COOKIE_NAME].value
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    page = context.new_page()
    external = []
    page.on("request", lambda req: None if req.url.startswith(live_server.url) else external.append(req.url))
    page.goto(f"{live_server.url}{URL}?date_from=2030-03-04&date_to=2030-03-31&tz=Europe/Berlin")
    assert page.title().startswith("Clinic insights")
    assert page.locator("svg.chart").count() == 3
    assert page.locator(".tile").count() == 8
    assert page.locator(".tile .value").first.inner_text() == "11"
    shot = screenshot(page, "clinic-insights")
    assert external == []
    assert shot.stat().st_size > 10_000
