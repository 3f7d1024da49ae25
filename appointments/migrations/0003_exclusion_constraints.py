"""PostgreSQL only: no two active appointments of one doctor (or one patient) may overlap in time.

The unique constraints on (doctor, start) / (patient, start) catch identical starts on every database;
these exclusion constraints also catch partial overlaps (e.g. appointments of different lengths).
On other databases this migration does nothing, so the model state and `makemigrations --check` are
unaffected; the service-level row locks and checks still apply there.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINTS = {
    "appointment_doctor_no_overlap": "doctor_id",
    "appointment_patient_no_overlap": "patient_id",
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(
            f'ALTER TABLE appointments_appointment ADD CONSTRAINT {name} EXCLUDE USING gist '
            f'({column} WITH =, tstzrange("start", "end", \'[)\') WITH &&) '
            f"WHERE (status IN ('pending', 'confirmed'))"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0002_initial"),
    ]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraints, drop_constraints, elidable=False),
    ]
