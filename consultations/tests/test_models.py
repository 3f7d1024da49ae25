import pytest

from consultations.choices import AccessAction, AccessChannel
from consultations.models import ConsultationAccessLog
from cybermed.querysets import AppendOnlyError


@pytest.fixture
def log(doctor, consultation) -> ConsultationAccessLog:
    return ConsultationAccessLog.objects.create(
        actor=doctor, consultation=consultation, action=AccessAction.VIEW, channel=AccessChannel.API
    )


def test_access_log_save_of_existing_row_is_refused(log):
    log.action = AccessAction.UPDATE
    with pytest.raises(AppendOnlyError):
        log.save()
    assert ConsultationAccessLog.objects.get().action == AccessAction.VIEW


def test_access_log_delete_is_refused(log):
    with pytest.raises(AppendOnlyError):
        log.delete()
    with pytest.raises(AppendOnlyError):
        ConsultationAccessLog.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ConsultationAccessLog.objects.filter(pk=log.pk).update(action=AccessAction.CREATE)
    assert ConsultationAccessLog.objects.count() == 1
