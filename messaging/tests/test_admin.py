import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from consultations.choices import AccessAction
from cybermed.querysets import AppendOnlyError
from messaging.models import MessageAccessLog
from messaging.tests.factories import MessageFactory
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    return client


def test_superuser_reads_threads_and_messages_and_every_read_is_recorded(root_client, thread):
    message = MessageFactory(thread=thread, body="visible to the superuser")

    pages = [
        root_client.get("/admin/messaging/thread/"),
        root_client.get(f"/admin/messaging/thread/{thread.pk}/change/"),
        root_client.get("/admin/messaging/message/"),
        root_client.get(f"/admin/messaging/message/{message.pk}/change/"),
    ]

    assert [p.status_code for p in pages] == [200] * 4
    assert b"visible to the superuser" in pages[1].content
    logged = list(MessageAccessLog.objects.order_by("pk").values_list("action", "thread_id", "message_id"))
    assert logged == [
        (AccessAction.LIST, thread.pk, None),
        (AccessAction.VIEW, thread.pk, None),
        (AccessAction.LIST, thread.pk, message.pk),
        (AccessAction.VIEW, thread.pk, message.pk),
    ]


def test_admin_is_read_only_even_for_superusers(root_client, thread):
    message = MessageFactory(thread=thread, body="original")

    assert root_client.get("/admin/messaging/message/add/").status_code == 403
    assert root_client.get(f"/admin/messaging/message/{message.pk}/delete/").status_code == 403
    root_client.post(f"/admin/messaging/message/{message.pk}/change/", {"body": "edited"})
    message.refresh_from_db()
    assert message.body == "original"


def test_staff_with_every_view_permission_cannot_see_threads(staff, thread):
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="messaging"))
    client = Client()
    client.force_login(staff)

    assert client.get("/admin/messaging/thread/").status_code == 403
    assert client.get(f"/admin/messaging/thread/{thread.pk}/change/").status_code == 403
    assert client.get("/admin/messaging/message/").status_code == 403
    assert b"messaging" not in client.get("/admin/").content.lower()
    assert not MessageAccessLog.objects.exists()


def test_access_log_is_append_only(root_client, thread):
    root_client.get("/admin/messaging/thread/")

    with pytest.raises(AppendOnlyError):
        MessageAccessLog.objects.all().delete()
    row = MessageAccessLog.objects.first()
    row.client_ip = "10.0.0.1"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert MessageAccessLog.objects.get(pk=row.pk).client_ip != "10.0.0.1"
