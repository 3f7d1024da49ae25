"""Re-spell stored addresses the way UserManager.normalize_email now does (NFKC, case folding, quotes, IDNA).

Until now an address was only lowercased, so a row like "ſam@example.com" or '"kate"@example.com'
would no longer be found by login or password reset, which look up the normalised spelling. Rows whose
new spelling another account already holds are left as they are: two accounts cannot be merged by a
migration, and staff must decide which one the mailbox keeps (the normalised lookup finds the other).
"""

from django.db import migrations


def renormalize(apps, schema_editor) -> None:
    from users.models import UserManager  # the live rule: there is exactly one

    User = apps.get_model("users", "User")
    taken = set(User.objects.values_list("email", flat=True))
    for pk, email in User.objects.values_list("pk", "email").iterator():
        normalized = UserManager.normalize_email(email)
        if normalized == email or normalized in taken or len(normalized) > 254:
            continue
        User.objects.filter(pk=pk).update(email=normalized)
        taken.add(normalized)


class Migration(migrations.Migration):
    dependencies = [("users", "0002_user_activated_at")]

    operations = [migrations.RunPython(renormalize, migrations.RunPython.noop)]
