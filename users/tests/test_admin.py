import pytest
from django.contrib import admin
from django.test import Client

from users import admin as users_admin
from users import services
from users.choices import Role
from users.models import DoctorProfile, User
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory
from users.tests.helpers import admin_add_patient_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_staff_admin_user_pages_render(admin_client_):
    doctor, patient = DoctorFactory(), PatientFactory()

    assert admin_client_.get("/admin/users/user/", {"q": doctor.email, "role__exact": "doctor"}).status_code == 200
    doctor_page = admin_client_.get(f"/admin/users/user/{doctor.pk}/change/")
    patient_page = admin_client_.get(f"/admin/users/user/{patient.pk}/change/")

    assert doctor_page.status_code == 200
    assert b"doctor_profile" in doctor_page.content
    assert patient_page.status_code == 200
    assert b"patient_profile" in patient_page.content
    for url in ("/admin/users/user/add/", "/admin/users/specialty/", "/admin/users/doctorprofile/"):
        assert admin_client_.get(url).status_code == 200


def test_staff_admin_add_user_by_email(admin_client_):
    response = admin_client_.post(
        "/admin/users/user/add/",
        admin_add_patient_form(email="Added@Example.com"),
    )

    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(email="added@example.com").check_password("Str0ng-admin-pass!")


def test_staff_admin_action_verifies_selected_doctors(admin_client_):
    pending = DoctorFactory.create_batch(2, doctor_profile__is_verified=False)
    untouched = DoctorFactory(doctor_profile__is_verified=False)

    response = admin_client_.post(
        "/admin/users/user/",
        {"action": "verify_doctors", "_selected_action": [d.pk for d in pending]},
    )

    assert response.status_code == 302
    for doctor in pending:
        doctor.doctor_profile.refresh_from_db()
        assert doctor.doctor_profile.is_verified
    untouched.doctor_profile.refresh_from_db()
    assert not untouched.doctor_profile.is_verified


def test_registered_user_inlines_follow_the_profile_inline_in_registration_order(monkeypatch, rf):
    monkeypatch.setattr(users_admin, "_role_inlines", {})
    first, second, third = (type(name, (admin.TabularInline,), {"model": User}) for name in ("A", "B", "C"))

    users_admin.register_user_inlines(Role.PATIENT, first, second)
    users_admin.register_user_inlines(Role.PATIENT, third, first)
    users_admin.register_user_inlines("", second)

    user_admin = admin.site._registry[User]
    request = rf.get("/")
    assert user_admin.get_inlines(request, PatientFactory()) == [users_admin.PatientProfileInline, first, second, third]
    assert user_admin.get_inlines(request, DoctorFactory()) == [users_admin.DoctorProfileInline]
    assert user_admin.get_inlines(request, StaffFactory()) == [second]
    assert user_admin.get_inlines(request, None) == []


@pytest.fixture
def verify_calls(monkeypatch) -> list[int]:
    """The doctor ids users.services.doctor_verify is called with (it still runs)."""
    calls: list[int] = []
    real = services.doctor_verify

    def spy(*, doctor: User):
        calls.append(doctor.pk)
        return real(doctor=doctor)

    monkeypatch.setattr(services, "doctor_verify", spy)
    return calls


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_staff_admin_user_action_verifies_through_the_service_and_counts_newly_verified(admin_client_, verify_calls):
    pending = DoctorFactory.create_batch(2, doctor_profile__is_verified=False)
    verified = DoctorFactory(doctor_profile__is_verified=True)
    patient = PatientFactory()
    selected = [*pending, verified, patient]

    response = admin_client_.post(
        "/admin/users/user/",
        {"action": "verify_doctors", "_selected_action": [u.pk for u in selected]},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == ["2 doctor(s) verified."]
    assert sorted(verify_calls) == sorted(d.pk for d in [*pending, verified])
    assert DoctorProfile.objects.filter(is_verified=True).count() == 3


def test_staff_admin_profile_action_verifies_through_the_service_and_counts_newly_verified(admin_client_, verify_calls):
    pending = DoctorFactory(doctor_profile__is_verified=False)
    verified = DoctorFactory(doctor_profile__is_verified=True)
    untouched = DoctorFactory(doctor_profile__is_verified=False)

    response = admin_client_.post(
        "/admin/users/doctorprofile/",
        {"action": "verify", "_selected_action": [pending.doctor_profile.pk, verified.doctor_profile.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == ["1 doctor(s) verified."]
    assert sorted(verify_calls) == sorted([pending.pk, verified.pk])
    untouched.doctor_profile.refresh_from_db()
    assert not untouched.doctor_profile.is_verified
