"""Sent by consultations.services inside the transaction; only `notifications` receives it.

`consultation_saved(consultation, created: bool, actor)`; receivers defer work with on_commit.
"""

from django.dispatch import Signal

consultation_saved = Signal()
