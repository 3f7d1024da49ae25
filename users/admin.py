from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from users import services
from users.choices import Role
from users.models import DoctorProfile, PatientProfile, SocialAccount, Specialty, User

# Inlines that apps above `users` attach to a user's change page, by role; see register_user_inlines.
_role_inlines: dict[str, list[type[InlineModelAdmin]]] = {}


def register_user_inlines(role: str, *inline_classes: type[InlineModelAdmin]) -> None:
    """Show `inline_classes` on the admin change page of every user whose `role` is `role`.

    The extension point for apps that depend on `users` (which must not import them): call it from
    your app's admin.py, e.g. `register_user_inlines(Role.DOCTOR, AvailabilityRuleInline, TimeOffInline)`.

    - Any role: a `users.choices.Role` value, or "" for accounts without one (staff).
    - Any number of inlines per call and any number of calls, from any number of apps.
    - Order is preserved: the role's profile inline comes first, then the registered inlines in
      registration order (call order, then argument order). Admin modules are imported in
      INSTALLED_APPS order, so one app's inlines precede those of the apps listed after it.
    - Registering an inline that is already registered for the role is a no-op.
    """
    registered = _role_inlines.setdefault(role, [])
    registered.extend(inline for inline in dict.fromkeys(inline_classes) if inline not in registered)


class DoctorProfileInline(admin.StackedInline):
    model = DoctorProfile
    can_delete = False
    extra = 0


class PatientProfileInline(admin.StackedInline):
    model = PatientProfile
    can_delete = False
    extra = 0


PROFILE_INLINES: dict[str, list[type[InlineModelAdmin]]] = {
    Role.DOCTOR: [DoctorProfileInline],
    Role.PATIENT: [PatientProfileInline],
}


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
        return [*PROFILE_INLINES.get(obj.role, []), *_role_inlines.get(obj.role, [])]

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


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    """Provider accounts linked by social login. Staff may unlink one (delete); links are made only by signing in."""

    list_display = ["id", "user", "provider", "email", "created_at"]
    list_filter = ["provider"]
    search_fields = ["user__email", "email", "subject"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["user", "provider", "subject", "email", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
