"""Signals sent by appointments.services after a change; only `notifications` receives them.

`appointment_changed` is sent inside the service's transaction, once per change, with one keyword
argument, `change`: an appointments.events.AppointmentChange. Receivers must defer their work with
transaction.on_commit.
"""

from django.dispatch import Signal

appointment_changed = Signal()
