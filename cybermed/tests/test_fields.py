import pytest
from rest_framework import serializers

from cybermed.api.fields import StrictCharField, StrictEmailField


@pytest.mark.parametrize("field", [StrictCharField(), StrictEmailField()])
@pytest.mark.parametrize(
    ("value", "message"),
    [(12, "Must be a string."), (1.5, "Must be a string."), ("a\ud800@b.example", "unpaired surrogates")],
)
def test_one_strict_char_field_for_every_app(field, value, message):
    with pytest.raises(serializers.ValidationError) as error:
        field.run_validation(value)

    assert message in str(error.value.detail[0])


@pytest.mark.django_db
def test_user_text_fields_answer_with_the_shared_messages(client_for, patient):
    response = client_for(patient).patch("/api/auth/me/", {"first_name": 12, "bio": "\ud800"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["first_name"] == ["Must be a string."]
    assert "unpaired surrogates" in body["bio"][0]
