"""One mailbox, one account: every spelling of an address that mail systems deliver to the same mailbox
is the same account, wherever an address is looked up (sign-up, login, reset, resend, admin, commands)."""

import importlib

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from users.models import User, UserManager
from users.tests.factories import DEFAULT_PASSWORD, PatientFactory, StaffFactory
from users.tests.helpers import admin_add_patient_form

pytestmark = pytest.mark.django_db

KELVIN = "\u212a"
# (a spelling, the one address it names)
SAME_MAILBOX = [
    ('"kate"@example.com', "kate@example.com"),
    ('"Kate"@Example.COM', "kate@example.com"),
    ('"k\\ate"@example.com', "kate@example.com"),
    ("KATE@EXAMPLE.COM", "kate@example.com"),
    (f"{KELVIN}ate@example.com", "kate@example.com"),
    ("kate@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "kate@example.com"),  # fullwidth domain
    ("\u017fam@example.com", "sam@example.com"),  # LONG S
    ("\u0131van@example.com", "ivan@example.com"),  # dotless i
    ("\u0130van@example.com", "ivan@example.com"),  # dotted capital I
    ("  kate@example.com ", "kate@example.com"),
    ("user@b\u00fccher.de", "user@xn--bcher-kva.de"),
    ("user@B\u00dcCHER.de", "user@xn--bcher-kva.de"),
    ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
]
# Quotes that are not redundant stay: these are other mailboxes than their unquoted look-alikes.
DIFFERENT_MAILBOX = ['"ka..te"@example.com', '"ka te"@example.com', '"kate@home"@example.com']


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX)
def test_normalize_email_gives_one_spelling_per_mailbox(spelling, address):
    assert UserManager.normalize_email(spelling) == address
    assert UserManager.normalize_email(address) == address  # idempotent


@pytest.mark.parametrize("spelling", DIFFERENT_MAILBOX)
def test_normalize_email_keeps_quotes_that_matter(spelling):
    assert UserManager.normalize_email(spelling) == spelling


def register(client: Client, email: str):
    body = {"email": email, "password": DEFAULT_PASSWORD, "first_name": "K", "last_name": "L", "role": "patient"}
    return client.post("/api/auth/register/", body, format="json")


def owner_of(address: str) -> User:
    return PatientFactory(email=address)


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX)
def test_anonymous_register_with_another_spelling_of_a_taken_address_is_400(api_client, spelling, address):
    owner_of(address)

    r = register(api_client, spelling)

    assert r.status_code == 400, r.content
    assert list(r.json()) == ["email"]
    assert User.objects.count() == 1


def test_anonymous_register_stores_the_normal_spelling(api_client):
    r = register(api_client, f'"{KELVIN}ate"@B\u00dcCHER.de')

    assert r.status_code == 201, r.content
    assert r.json()["email"] == "kate@xn--bcher-kva.de"
    assert User.objects.get().email == "kate@xn--bcher-kva.de"


def test_anonymous_register_address_too_long_once_normalised_is_400(api_client):
    # Each "ß" label is 20 characters as typed and 40 once folded ("ss"): 193 characters become 313.
    email = "a" * 64 + "@" + ("\u00df" * 20 + ".") * 6 + "de"
    assert len(email) <= 254 < len(UserManager.normalize_email(email))

    r = register(api_client, email)

    assert r.status_code == 400
    assert list(r.json()) == ["email"]
    assert not User.objects.exists()


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX)
def test_anonymous_login_with_any_spelling_of_the_address_gets_tokens(api_client, spelling, address):
    owner_of(address)

    r = api_client.post("/api/auth/login/", {"email": spelling, "password": DEFAULT_PASSWORD}, format="json")

    assert r.status_code == 200, r.content


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX)
def test_anonymous_password_reset_with_any_spelling_mails_the_owner(
    api_client, django_capture_on_commit_callbacks, spelling, address
):
    owner = owner_of(address)

    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post("/api/auth/password/reset/", {"email": spelling}, format="json")

    assert r.status_code == 204
    assert [m.to for m in mail.outbox] == [[owner.email]]


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX)
def test_anonymous_activation_resend_with_any_spelling_mails_the_owner(
    api_client, django_capture_on_commit_callbacks, spelling, address
):
    owner = PatientFactory(email=address, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post("/api/auth/activate/resend/", {"email": spelling}, format="json")

    assert r.status_code == 204
    assert [m.to for m in mail.outbox] == [[owner.email]]


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX)
def test_get_by_natural_key_finds_the_owner_by_any_spelling(spelling, address):
    owner = owner_of(address)

    assert get_user_model().objects.get_by_natural_key(spelling) == owner


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX[:6])
def test_createsuperuser_with_another_spelling_of_a_taken_address_fails(spelling, address):
    owner_of(address)

    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", "--noinput", email=spelling, verbosity=0)
    assert User.objects.count() == 1


def test_model_save_and_create_user_store_the_normal_spelling():
    assert User.objects.create_user(f"{KELVIN}ate@example.com", DEFAULT_PASSWORD).email == "kate@example.com"
    user = PatientFactory(email='"sam"@EXAMPLE.com')
    assert user.email == "sam@example.com"


@pytest.mark.parametrize(("spelling", "address"), SAME_MAILBOX[:6])
def test_staff_admin_add_user_with_another_spelling_of_a_taken_address_is_a_form_error(spelling, address):
    owner_of(address)
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))

    r = client.post(
        "/admin/users/user/add/",
        admin_add_patient_form(email=spelling),
    )

    assert r.status_code == 200  # the form again, with the error; not a redirect, not a 500
    assert b"already exists" in r.content
    assert User.objects.filter(is_staff=False).count() == 1


def test_migration_respells_stored_addresses_unless_another_account_has_that_spelling():
    from django.apps import apps

    respell = PatientFactory(email="x@example.com")
    clash = PatientFactory(email="y@example.com")
    canonical = PatientFactory(email="sam@example.com")
    # Rows as the old rule (lowercase only) stored them.
    User.objects.filter(pk=respell.pk).update(email='"kate"@example.com')
    User.objects.filter(pk=clash.pk).update(email="\u017fam@example.com")
    migration = importlib.import_module("users.migrations.0003_renormalize_emails")

    migration.renormalize(apps, None)

    emails = dict(User.objects.values_list("pk", "email"))
    assert emails[respell.pk] == "kate@example.com"
    assert emails[clash.pk] == "\u017fam@example.com"  # left for staff: two accounts, one mailbox
    assert emails[canonical.pk] == "sam@example.com"
