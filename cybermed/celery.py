"""The Celery application: the production worker and beat for CyberMed's background tasks.

App code never calls Celery. It enqueues Django Tasks (`@task` functions, `.enqueue()` after commit); with
`TASKS_BACKEND=cybermed.celery_backend.CeleryBackend` each enqueue becomes one message for the single Celery
task below, `cybermed.run_task`, which imports the Django Task by its dotted path and calls it. Beat's
schedule (settings.CELERY_BEAT_SCHEDULE) sends the same message for the periodic jobs.

    celery -A cybermed worker      # runs the tasks
    celery -A cybermed beat        # sends the periodic ones (exactly one beat per deployment)

Delivery is at least once: a message is acknowledged only after its task returned (acks_late), and put back
when the worker running it dies (reject_on_worker_lost), so every task must be idempotent. Transient
failures (a mail server or HTTP endpoint that is down) are retried with exponential backoff and jitter.
"""

import os
import smtplib

from celery import Celery
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cybermed.settings")

app = Celery("cybermed")
# Every CELERY_* Django setting (cybermed/settings.py) configures the app.
app.config_from_object("django.conf:settings", namespace="CELERY")

RUN_TASK = "cybermed.run_task"

# Errors worth another attempt later. smtplib's errors and socket timeouts are OSErrors; ConnectionError
# covers refused connections, and requests' own RequestException (HTTP) derives from OSError too.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (OSError, smtplib.SMTPException)


@app.task(
    name=RUN_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
)
def run_task(task_path: str, args: list | None = None, kwargs: dict | None = None) -> object:
    """Run the Django Task at `task_path` (e.g. "notifications.tasks.send_notification_email")."""
    from django_tasks.base import Task

    task = import_string(task_path)
    # The message names code to run: refuse anything that is not a declared @task, whoever sent it.
    if not isinstance(task, Task):
        raise TypeError(f"{task_path} is not a Django Task")
    return task.call(*(args or []), **(kwargs or {}))
