import pytest

from users.checks import check_email_link_base


@pytest.mark.parametrize(
    ("site_url", "frontend_url", "warned"),
    [
        ("http://127.0.0.1:8000", "", True),
        ("http://localhost:8000", "", True),
        ("http://[::1]:8000", "", True),
        ("https://api.example.com", "", False),
        ("http://127.0.0.1:8000", "https://app.example.com", False),
        ("https://api.example.com", "http://localhost:3000", True),
    ],
)
def test_deploy_check_warns_when_email_links_point_at_loopback(settings, site_url, frontend_url, warned):
    settings.SITE_URL, settings.FRONTEND_URL = site_url, frontend_url
    messages = check_email_link_base()
    assert [m.id for m in messages] == (["users.W001"] if warned else [])
