import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from messaging import services
from messaging.api.serializers import MessageSerializer, message_json_of
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def rendered(data: dict) -> dict:
    return json.loads(JSONRenderer().render(data))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("retracted", [False, True])
def test_message_json_matches_the_serializer(zone, retracted):
    message = MessageFactory(body="Can I move my appointment?")
    if retracted:
        message = services.message_retract(message=message, by=message.sender)

    with timezone.override(zone):
        ours, drf = message_json_of(message), MessageSerializer(message).data

    assert JSONRenderer().render(ours) == JSONRenderer().render(drf)
    assert rendered(ours)["body"] == ("" if retracted else "Can I move my appointment?")


def test_message_json_of_a_fresh_message_matches_the_stored_row():
    message = MessageFactory()

    assert message_json_of(message) == MessageSerializer(type(message).objects.get(pk=message.pk)).data
