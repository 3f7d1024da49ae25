from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from appointments.admin import AvailabilityRuleInline, TimeOffInline
from users import services
from users.choices import Role
from users.models import DoctorProfile, PatientProfile, Specialty, User


class DoctorProfileInline(admin.StackedInline):
    model = DoctorProfile
    can_delete = False
    extra = 0


class PatientProfileInline(admin.StackedInline):
    model = PatientProfile
    can_delete = False
    extra = 0


def _verify_all(profiles: QuerySet[DoctorProfile]) -> int:
    """Verify each doctor through the service (one transaction each); how many were not verified before."""
    doctors = [profile.user for profile in profiles.select_related("user").order_by("pk")]
    return sum(services.doctor_verify(doctor=doctor)[1] for doctor in doctors)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users sign in with their email: there is no username field."""

    list_display = ["email", "first_name", "last_name", "role", "is_active", "is_staff", "date_joined"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser", "doctor_profile__is_verified"]
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["email"]
    readonly_fields = ["date_joined", "last_login", "activated_at"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "role", "gender", "phone_number", "bio")}),
        (_("Picture"), {"fields": ("profile_picture",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "activated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
    actions = ["verify_doctors"]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        if obj is None:
            return []
        if obj.role == Role.DOCTOR:
            return [DoctorProfileInline, AvailabilityRuleInline, TimeOffInline]
        if obj.role == Role.PATIENT:
            return [PatientProfileInline]
        return []

    @admin.action(description=_("Verify selected doctors"))
    def verify_doctors(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        profiles = DoctorProfile.objects.filter(user__in=queryset)  # patients and staff have none: skipped
        self.message_user(request, _("%d doctor(s) verified.") % _verify_all(profiles), messages.SUCCESS)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(DoctorProfile)
class DoctorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "specialty", "timezone", "slot_minutes", "is_verified"]
    list_filter = ["is_verified", "specialty"]
    list_select_related = ["user", "specialty"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "clinic_name"]
    actions = ["verify"]

    @admin.action(description=_("Verify selected doctors"))
    def verify(self, request: HttpRequest, queryset: QuerySet[DoctorProfile]) -> None:
        self.message_user(request, _("%d doctor(s) verified.") % _verify_all(queryset), messages.SUCCESS)
