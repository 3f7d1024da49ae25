"""A Django Tasks backend that hands every enqueued task to Celery (cybermed/celery.py).

Why our own: the published Celery backends for the Tasks API were, when this was written, a 0.1 release
needing Python >= 3.12 (we run 3.11) and a single-author 0.1 release; this adapter is the few lines we need.
It sends one message per enqueue, naming the Task by its dotted path with its JSON arguments; results are
not stored (nothing reads them), so `get_result` is not supported.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.exceptions import InvalidTaskError
from django_tasks.signals import task_enqueued
from django_tasks.utils import normalize_json


class CeleryBackend(BaseTaskBackend):
    supports_defer = True  # run_after becomes Celery's eta

    def validate_task(self, task: Task) -> None:
        super().validate_task(task)
        if task.takes_context:
            raise InvalidTaskError("The Celery backend does not pass a task context.")

    def check(self, **kwargs: Any) -> Iterable[checks.CheckMessage]:
        if not settings.CELERY_BROKER_URL:
            # Celery would otherwise fall back to amqp://guest@localhost and the tasks would wait there unseen.
            yield checks.Error(
                "TASKS_BACKEND is the Celery backend but CELERY_BROKER_URL is empty.",
                hint="Set CELERY_BROKER_URL to redis://host:6379/1 or amqp://user:pass@host:5672/vhost.",
                id="cybermed.E001",
            )

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        from cybermed.celery import RUN_TASK, app

        self.validate_task(task)
        result_id = str(uuid.uuid4())
        # Normalised first, so a value JSON cannot carry (a tuple, a datetime) fails here, not in the worker.
        args, kwargs = normalize_json(list(args)), normalize_json(dict(kwargs))
        app.send_task(
            RUN_TASK,
            kwargs={"task_path": task.module_path, "args": args, "kwargs": kwargs},
            task_id=result_id,
            queue=settings.TASK_QUEUE_PREFIX + task.queue_name,
            eta=task.run_after,
        )
        result = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result
