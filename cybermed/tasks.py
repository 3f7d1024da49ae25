"""Project-level periodic jobs (scheduled by celery beat: settings.PERIODIC_TASKS)."""

import datetime as dt

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from django_tasks import task


@task()
def prune_task_results() -> int:
    """Delete finished results of the database task backend older than TASK_RESULT_RETENTION_DAYS.

    Celery stores no results (CELERY_TASK_IGNORE_RESULT); this keeps the table of django_tasks_db, which
    deployments still on `db_worker` (and the benchmark) fill, from growing without end. Returns the count.
    """
    if not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - dt.timedelta(days=settings.TASK_RESULT_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=cutoff
    ).delete()
    return deleted


@task()
def purge_idempotency_keys() -> int:
    """Delete stored Idempotency-Key answers past their 24 h (they are ignored by then). Returns the count."""
    from cybermed.idempotency import purge_expired

    return purge_expired()
