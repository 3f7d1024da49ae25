import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from consultations.choices import AccessAction, AccessChannel
from consultations.models import ConsultationAccessLog
from consultations.tests.factories import ConsultationFactory
from users.models import User
from users.tests.factories import StaffFactory

CHANGELIST = "/admin/consultations/consultation/"
LOG_CHANGELIST = "/admin/consultations/consultationaccesslog/"


def change_url(pk: int) -> str:
    return f"/admin/consultations/consultation/{pk}/change/"


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def editor(db) -> User:
    user = StaffFactory()
    user.user_permissions.add(Permission.objects.get(codename="change_consultation"))
    return user


@pytest.fixture
def editor_client(editor: User) -> Client:
    client = Client()
    client.force_login(editor)
    return client


def form_data(consultation, **overrides) -> dict:
    data = {
        "medical_history": consultation.medical_history,
        "examination_findings": consultation.examination_findings,
        "investigations": consultation.investigations,
        "treatment_plan": consultation.treatment_plan,
        "prescriptions": json.dumps(consultation.prescriptions),
        "review_date": "",
    }
    return {**data, **overrides}


def _logs() -> list[tuple]:
    return list(ConsultationAccessLog.objects.order_by("id").values_list("actor_id", "action", "consultation_id"))


def test_staff_changelist_lists_and_audits_each_row(staff_client, staff, consultation):
    other = ConsultationFactory()
    r = staff_client.get(CHANGELIST)
    assert r.status_code == 200
    assert sorted(_logs()) == sorted(
        [(staff.pk, AccessAction.LIST, consultation.pk), (staff.pk, AccessAction.LIST, other.pk)]
    )
    assert set(ConsultationAccessLog.objects.values_list("channel", flat=True)) == {AccessChannel.ADMIN}


def test_staff_changelist_search_by_patient_and_doctor_email(staff_client, consultation):
    other = ConsultationFactory()
    r = staff_client.get(CHANGELIST, {"q": consultation.patient.email})
    assert [c.pk for c in r.context_data["cl"].result_list] == [consultation.pk]
    r = staff_client.get(CHANGELIST, {"q": other.doctor.email})
    assert [c.pk for c in r.context_data["cl"].result_list] == [other.pk]


def test_staff_without_change_permission_sees_read_only_page_and_is_audited(staff_client, staff, consultation):
    r = staff_client.get(change_url(consultation.pk))
    assert r.status_code == 200
    assert r.context_data["has_change_permission"] is False
    assert _logs() == [(staff.pk, AccessAction.VIEW, consultation.pk)]


def test_staff_without_change_permission_post_is_refused(staff_client, consultation):
    r = staff_client.post(change_url(consultation.pk), form_data(consultation, treatment_plan="Hacked"))
    assert r.status_code == 403
    consultation.refresh_from_db()
    assert consultation.treatment_plan == "Rest and fluids."


def test_staff_add_and_delete_are_refused(editor_client, consultation):
    editor_client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    assert editor_client.get(CHANGELIST + "add/").status_code == 403
    assert editor_client.post(f"{CHANGELIST}{consultation.pk}/delete/", {"post": "yes"}).status_code == 403


def test_editor_change_goes_through_service(editor_client, editor, consultation, signal_calls):
    r = editor_client.post(change_url(consultation.pk), form_data(consultation, treatment_plan="Admin fix"))
    assert r.status_code == 302
    consultation.refresh_from_db()
    assert consultation.treatment_plan == "Admin fix"
    assert consultation.history.first().history_user == editor
    assert _logs() == [(editor.pk, AccessAction.UPDATE, consultation.pk)]
    assert [(c["created"], c["actor"]) for c in signal_calls] == [(False, editor)]


def test_editor_bad_prescriptions_are_refused(editor_client, consultation):
    bad = json.dumps([{"drug": "x", "dose": 5, "frequency": "daily", "duration": "1 day"}])
    r = editor_client.post(change_url(consultation.pk), form_data(consultation, prescriptions=bad))
    assert r.status_code == 200
    assert r.context_data["errors"]
    consultation.refresh_from_db()
    assert consultation.prescriptions[0]["drug"] == "Paracetamol"


def test_editor_review_date_before_visit_is_refused(editor_client, consultation):
    early = consultation.appointment.start.date().replace(year=2000).isoformat()
    r = editor_client.post(change_url(consultation.pk), form_data(consultation, review_date=early))
    assert r.status_code == 200
    consultation.refresh_from_db()
    assert consultation.review_date is None


def test_staff_history_view_shows_revisions_and_is_audited(staff_client, staff, editor_client, consultation):
    editor_client.post(change_url(consultation.pk), form_data(consultation, treatment_plan="Admin fix"))
    r = staff_client.get(f"{CHANGELIST}{consultation.pk}/history/")
    assert r.status_code == 200
    assert len(r.context["page_obj"].object_list) == 2
    assert (staff.pk, AccessAction.HISTORY, consultation.pk) in _logs()


def test_staff_access_log_is_browsable_but_read_only_even_for_superuser(consultation, doctor):
    log = ConsultationAccessLog.objects.create(
        actor=doctor, consultation=consultation, action=AccessAction.VIEW, channel=AccessChannel.API
    )
    client = Client()
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    r = client.get(LOG_CHANGELIST)
    assert r.status_code == 200
    assert list(r.context_data["cl"].result_list) == [log]
    assert client.get(f"{LOG_CHANGELIST}{log.pk}/change/").context_data["has_change_permission"] is False
    assert client.post(f"{LOG_CHANGELIST}{log.pk}/change/", {"action": "create"}).status_code == 403
    assert client.get(LOG_CHANGELIST + "add/").status_code == 403
    assert client.post(f"{LOG_CHANGELIST}{log.pk}/delete/", {"post": "yes"}).status_code == 403
    r = client.post(LOG_CHANGELIST, {"action": "delete_selected", "_selected_action": [log.pk], "post": "yes"})
    assert ConsultationAccessLog.objects.filter(pk=log.pk, action=AccessAction.VIEW).exists()


def test_staff_history_version_view_is_audited(staff_client, staff, editor_client, consultation):
    editor_client.post(change_url(consultation.pk), form_data(consultation, treatment_plan="Admin fix"))
    first = consultation.history.earliest("history_date")
    r = staff_client.get(f"{CHANGELIST}{consultation.pk}/history/{first.history_id}/")
    assert r.status_code == 200
    assert (staff.pk, AccessAction.HISTORY, consultation.pk) in _logs()


def test_editor_revert_to_earlier_version_goes_through_service(editor_client, editor, consultation, signal_calls):
    original = form_data(consultation)
    editor_client.post(change_url(consultation.pk), form_data(consultation, treatment_plan="Admin fix"))
    first = consultation.history.earliest("history_date")
    r = editor_client.post(f"{CHANGELIST}{consultation.pk}/history/{first.history_id}/", original)
    assert r.status_code == 302
    consultation.refresh_from_db()
    assert consultation.treatment_plan == "Rest and fluids."
    assert consultation.history.count() == 3
    assert [(c["created"], c["actor"]) for c in signal_calls] == [(False, editor), (False, editor)]
    assert [row[1] for row in _logs()] == [AccessAction.UPDATE, AccessAction.UPDATE]


@pytest.mark.parametrize(
    "prescriptions",
    ["[" * 100_000 + "]" * 100_000, '[{"drug": 1e400}]', "[NaN]", "[" * 70 + "]" * 70],
    ids=["recursion", "infinity", "nan", "too-deep"],
)
def test_editor_saving_hostile_prescriptions_json_gets_a_form_error(editor_client, consultation, prescriptions):
    before = consultation.prescriptions
    r = editor_client.post(change_url(consultation.pk), form_data(consultation, prescriptions=prescriptions))
    assert r.status_code == 200  # the form again, with its error; not a 500
    assert "prescriptions" in r.context["adminform"].form.errors
    consultation.refresh_from_db()
    assert consultation.prescriptions == before
