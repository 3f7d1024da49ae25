"""The Celery path: the Tasks backend adapter, the generic runner task, retries and the beat schedule.

These run without a broker (the message send is captured; the runner runs in-process). tests/system/
test_celery_worker.py runs a real worker and beat against Redis and RabbitMQ.
"""

import datetime as dt
import importlib.util
import smtplib

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task
from django_tasks.base import Task
from django_tasks.exceptions import InvalidTaskError

from cybermed import settings as settings_module
from cybermed.celery import RUN_TASK, app, run_task
from notifications.models import Notification
from notifications.services import notification_create
from notifications.tests.factories import NotificationFactory

CELERY_TASKS = {"default": {"BACKEND": "cybermed.celery_backend.CeleryBackend"}}


@task()
def add(a: int, b: int) -> int:
    return a + b


@task(takes_context=True)
def with_context(context, a: int) -> int:  # noqa: ANN001
    return a


def not_a_task() -> str:
    return "ran"


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """The messages the backend hands to the broker."""
    messages: list[dict] = []

    def send_task(name: str, **options: object) -> None:
        messages.append({"name": name, **options})

    monkeypatch.setattr(app, "send_task", send_task)
    return messages


def test_backend_sends_one_message_naming_the_task_by_path(settings, sent):
    settings.TASKS = CELERY_TASKS

    result = add.enqueue(2, b=3)

    (message,) = sent
    assert message["name"] == RUN_TASK
    assert message["kwargs"] == {"task_path": "cybermed.tests.test_celery.add", "args": [2], "kwargs": {"b": 3}}
    assert message["task_id"] == result.id
    assert message["queue"] == "default"
    assert message["eta"] is None
    assert result.status == "READY"


def test_backend_prefixes_the_queue_for_shared_brokers(settings, sent):
    settings.TASKS = CELERY_TASKS
    settings.TASK_QUEUE_PREFIX = "clinic-a."

    add.enqueue(1, 1)

    assert sent[0]["queue"] == "clinic-a.default"


def test_backend_passes_run_after_as_eta(settings, sent):
    settings.TASKS = CELERY_TASKS
    when = timezone.now() + dt.timedelta(minutes=5)

    add.using(run_after=when).enqueue(1, 1)

    assert sent[0]["eta"] == when


def test_backend_refuses_tasks_that_take_a_context(settings, sent):
    settings.TASKS = CELERY_TASKS

    with pytest.raises(InvalidTaskError):
        with_context.enqueue(1)
    assert sent == []


def test_backend_refuses_arguments_json_cannot_carry(settings, sent):
    settings.TASKS = CELERY_TASKS

    with pytest.raises(TypeError):
        add.enqueue(object(), 1)
    assert sent == []


@pytest.mark.django_db
def test_email_is_queued_only_after_commit_with_the_notification_id_alone(
    settings, sent, patient, django_capture_on_commit_callbacks
):
    settings.TASKS = CELERY_TASKS
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification = notification_create(
            user=patient, kind="reminder", title="Appointment reminder", message="Bring your test results."
        )
        assert sent == []

    (message,) = sent
    # Only an id crosses the broker: never a title, a message or anything medical.
    assert message["kwargs"] == {
        "task_path": "notifications.tasks.send_notification_email",
        "args": [],
        "kwargs": {"notification_id": notification.pk},
    }


def test_celery_backend_without_a_broker_fails_the_system_checks(settings):
    from django_tasks import task_backends

    settings.TASKS = CELERY_TASKS
    settings.CELERY_BROKER_URL = ""
    assert [message.id for message in task_backends["default"].check()] == ["cybermed.E001"]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/1"
    assert list(task_backends["default"].check()) == []


def test_runner_calls_the_django_task():
    assert run_task.run(task_path="cybermed.tests.test_celery.add", args=[2], kwargs={"b": 5}) == 7


def test_runner_refuses_a_path_that_is_not_a_task():
    with pytest.raises(TypeError, match="not a Django Task"):
        run_task.run(task_path="cybermed.tests.test_celery.not_a_task")


class FlakyEmailBackend(BaseEmailBackend):
    """Fails like a mail server that is briefly down, then works."""

    failures_left = 2

    def send_messages(self, email_messages):  # noqa: ANN001, ANN201
        if FlakyEmailBackend.failures_left:
            FlakyEmailBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("mail server went away")
        mail.outbox.extend(email_messages)
        return len(email_messages)


def test_runner_retries_with_backoff_on_mail_and_network_errors():
    options = run_task
    assert issubclass(smtplib.SMTPServerDisconnected, options.autoretry_for)
    assert issubclass(ConnectionRefusedError, options.autoretry_for)
    assert issubclass(TimeoutError, options.autoretry_for)
    assert not issubclass(ValueError, options.autoretry_for)  # a bug is not retried forever
    assert options.retry_backoff
    assert options.retry_jitter
    assert options.max_retries >= 3
    assert options.acks_late
    assert options.reject_on_worker_lost


@pytest.mark.django_db(transaction=True)
def test_flaky_mail_server_is_retried_until_the_email_goes_once(settings, patient):
    settings.EMAIL_BACKEND = "cybermed.tests.test_celery.FlakyEmailBackend"
    FlakyEmailBackend.failures_left = 2
    notification = NotificationFactory(user=patient, kind="reminder", title="t", message="m")

    # apply() runs the task in-process as a worker would, retries included (eagerly, without the countdown).
    result = run_task.apply(
        kwargs={
            "task_path": "notifications.tasks.send_notification_email",
            "kwargs": {"notification_id": notification.pk},
        }
    )

    assert result.get() is True
    assert FlakyEmailBackend.failures_left == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None


def test_beat_schedule_names_only_installed_django_tasks():
    schedule = django_settings.CELERY_BEAT_SCHEDULE
    assert {
        "send-reminders",
        "prune-notifications",
        "prune-task-results",
        "purge-idempotency-keys",
        "expire-payment-holds",
    } <= set(schedule)
    for entry in schedule.values():
        assert entry["task"] == RUN_TASK
        assert isinstance(import_string(entry["kwargs"]["task_path"]), Task)


def test_beat_schedules_payment_hold_expiry_only_when_payments_exists():
    payments_installed = importlib.util.find_spec("payments") is not None
    assert ("expire-payment-holds" in django_settings.CELERY_BEAT_SCHEDULE) == (
        payments_installed and importlib.util.find_spec("payments.tasks") is not None
    )
    assert settings_module._task_exists("notifications.tasks.send_reminders")
    assert not settings_module._task_exists("no_such_app.tasks.job")


def test_celery_app_reads_the_django_settings():
    assert app.conf.task_default_queue == "default"
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late is True
    assert app.conf.beat_schedule == django_settings.CELERY_BEAT_SCHEDULE
    # Redis: a dead worker's task is looked for every 10 s at most, and every look scans.
    options = app.conf.broker_transport_options
    assert options["unacked_restore_throttle"] == 1
    assert options["unacked_restore_interval"] == min(10, options["visibility_timeout"])
