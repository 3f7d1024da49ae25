"""The periodic jobs celery beat runs: reminders, pruning of notifications and of stored task results."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from cybermed.models import IdempotencyKey
from cybermed.tasks import prune_task_results, purge_idempotency_keys
from notifications.models import Notification, ReminderSent
from notifications.tasks import prune_notifications, send_reminders
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_reminders_job_sends_each_reminder_once_when_run_twice(patient, doctor):
    AppointmentFactory(
        patient=patient, doctor=doctor, start=timezone.now() + dt.timedelta(hours=3), status=Status.CONFIRMED
    )

    assert send_reminders.call() == 2
    assert send_reminders.call() == 0
    assert ReminderSent.objects.count() == 2


def test_prune_notifications_deletes_only_old_read_ones(settings, patient):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    old_read = NotificationFactory(user=patient, is_read=True)
    old_unread = NotificationFactory(user=patient, is_read=False)
    recent_read = NotificationFactory(user=patient, is_read=True)
    long_ago = timezone.now() - dt.timedelta(days=31)
    Notification.objects.filter(pk__in=[old_read.pk, old_unread.pk]).update(created_at=long_ago)

    assert prune_notifications.call() == 1
    assert set(Notification.objects.values_list("pk", flat=True)) == {old_unread.pk, recent_read.pk}


def _db_result(status: str, finished_days_ago: float | None) -> DBTaskResult:
    finished = None if finished_days_ago is None else timezone.now() - dt.timedelta(days=finished_days_ago)
    return DBTaskResult.objects.create(
        status=status,
        task_path="notifications.tasks.send_notification_email",
        args_kwargs={"args": [], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        finished_at=finished,
    )


def test_prune_task_results_deletes_old_finished_results_only(settings):
    settings.TASK_RESULT_RETENTION_DAYS = 14
    old_ok = _db_result("SUCCESSFUL", 15)
    old_failed = _db_result("FAILED", 20)
    recent = _db_result("SUCCESSFUL", 1)
    waiting = _db_result("READY", None)

    assert prune_task_results.call() == 2
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not DBTaskResult.objects.filter(pk__in=[old_ok.pk, old_failed.pk]).exists()


def test_purge_idempotency_keys_job_deletes_expired_keys_only(patient):
    now = timezone.now()
    for key, expires in (("old", now - dt.timedelta(minutes=1)), ("live", now + dt.timedelta(hours=1))):
        IdempotencyKey.objects.create(user=patient, key=key, request_hash="0" * 64, status_code=201, expires_at=expires)
    assert purge_idempotency_keys.call() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["live"]
