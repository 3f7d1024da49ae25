"""Signals sent by appointments.services after a change; only `notifications` receives them.

`appointment_changed` is sent inside the service's transaction, once per change, with keyword args:
- `appointment`: the Appointment after the change;
- `event`: one of EVENTS;
- `actor`: the User who made the change (None for system changes);
- `previous_status`: status before the change (None for "created");
- `previous_start` / `previous_end`: the time the appointment held before the change (the freed time
  for "cancelled", "rescheduled" and "referred"; None for "created");
- `referral`: the new appointment created by "referred" (None otherwise).

A referral sends one "referred" event for the original appointment (not a separate "created" for the
new one). Receivers must defer their work with transaction.on_commit.
"""

from django.dispatch import Signal

EVENTS = ("created", "confirmed", "cancelled", "rescheduled", "referred", "completed", "no_show")

appointment_changed = Signal()
