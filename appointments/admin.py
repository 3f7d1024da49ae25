from django.contrib import admin

from appointments.models import AvailabilityRule, TimeOff


class AvailabilityRuleInline(admin.TabularInline):
    """Shown on the doctor's page in the users admin."""

    model = AvailabilityRule
    fk_name = "doctor"
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    fk_name = "doctor"
    extra = 0
