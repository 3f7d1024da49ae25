"""Phone numbers become E.164 (django-phonenumber-field), so that SMS can be sent to them.

Stored numbers were free text. Each is re-spelt in E.164 when it parses as a valid number: in
international form ("+44 20 7183 8750"), or in national form when
PHONENUMBER_DEFAULT_REGION names the country (set it before migrating to keep "020 7183 8750" of a UK
clinic). Anything else ("ask reception", a number too short to be one) is blanked: an invalid number
cannot receive an SMS, and it would fail validation the next time its owner saved the profile. The
owner can enter it again; the old values are not kept (they are personal data with no use).
"""

import phonenumber_field.modelfields
import phonenumbers
from django.conf import settings
from django.db import migrations

COLUMNS = (("users", "User", "pk"), ("users", "DoctorProfile", "user_id"))


def e164_or_blank(value: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(apps, schema_editor) -> None:
    region = getattr(settings, "PHONENUMBER_DEFAULT_REGION", None)
    for app_label, model_name, key in COLUMNS:
        model = apps.get_model(app_label, model_name)
        rows = model.objects.exclude(phone_number="").values_list(key, "phone_number")
        for pk, value in rows.iterator():
            new = e164_or_blank(str(value), region)
            if new != str(value):
                model.objects.filter(**{key: pk}).update(phone_number=new)


class Migration(migrations.Migration):
    dependencies = [("users", "0004_doctorprofile_booking_policies_and_fee")]

    # The rewrite runs first, while the columns are still plain text: after the AlterFields the historical
    # model would hand back PhoneNumber objects, which compare equal to their E.164 form and hide the rewrite.
    operations = [
        migrations.RunPython(normalise, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="doctorprofile",
            name="phone_number",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True,
                default="",
                help_text="E.164: + then the country code and number, e.g. +442071838750 (spaces are dropped). "
                "Empty for none.",
                max_length=128,
                region=None,
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="phone_number",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True,
                default="",
                help_text="E.164: + then the country code and number, e.g. +442071838750 (spaces are dropped). "
                "Empty for none.",
                max_length=128,
                region=None,
            ),
        ),
    ]
