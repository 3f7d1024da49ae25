import re
import unicodedata
import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django_use_email_as_username.models import BaseUser, BaseUserManager
from phonenumber_field.modelfields import PhoneNumberField

from cybermed.currencies import DEFAULT_CURRENCY, validate_amount, validate_currency
from users.choices import Gender, Role

# An unquoted local part is a "dot-atom" (RFC 5322): printable ASCII except specials, dots only between atoms.
DOT_ATOM = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
QUOTED_PAIR = re.compile(r"\\(.)")
# Django's EmailValidator matches local parts case-insensitively, so Python's regex also lets in the
# non-ASCII letters whose case partner is an ASCII letter: KELVIN SIGN and LONG S become k and s under
# NFKC + casefold; the dotless i and the dotted capital I need this.
ASCII_TWINS = {"\u0131": "i", "i\u0307": "i"}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _local_part(local: str) -> str:
    for twin, letter in ASCII_TWINS.items():
        local = local.replace(twin, letter)
    if len(local) >= 2 and local[0] == local[-1] == '"':
        unquoted = QUOTED_PAIR.sub(r"\1", local[1:-1])
        if DOT_ATOM.match(unquoted):  # the quotes were redundant: "kate" is kate
            return unquoted
    return local


def _domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")  # bücher.de and xn--bcher-kva.de are one domain
    except UnicodeError:
        return domain


E164_HELP = "E.164: + then the country code and number, e.g. +442071838750 (spaces are dropped). Empty for none."


class UserManager(BaseUserManager):
    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """The one spelling of a mailbox, which every lookup by email and every saved address uses.

        Mail systems treat these as one mailbox, so they must be one account: case (the whole address,
        by Unicode case folding, not only the domain), compatibility forms (NFKC: fullwidth letters,
        KELVIN SIGN), redundant quotes around the local part, and a Unicode domain versus its IDNA form.
        """
        text = _fold((email or "").strip())
        local, at, domain = text.rpartition("@")
        if not at:
            return text
        return f"{_local_part(local)}@{_domain(domain)}"

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email=self.normalize_email(username))


class User(BaseUser):
    """Everyone who signs in: patients, doctors and staff (staff are `is_staff`, role blank)."""

    role = models.CharField(max_length=10, choices=Role.choices, blank=True, default="")
    gender = models.CharField(max_length=12, choices=Gender.choices, blank=True, default="")
    # E.164 (+442071838750), or empty. SMS go to this number (notifications app).
    phone_number = PhoneNumberField(blank=True, default="", help_text=E164_HELP)
    bio = models.TextField(blank=True, default="")
    profile_picture = models.ImageField(upload_to="profile_pictures/", blank=True, null=True)
    # Set once, when the owner confirms their email. It keeps a deactivated account (is_active off by
    # staff) from reactivating itself through the activation endpoints.
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique")]
        indexes = [
            # The directory's page (doctors by name) and its count: without it PostgreSQL scanned every
            # user, patients included (about 100 ms a page at 200,000 users, issue 19).
            models.Index(
                fields=["last_name", "first_name", "id"],
                name="users_user_doctor_by_name",
                condition=models.Q(role="doctor"),
            )
        ]

    def save(self, *args, **kwargs) -> None:
        self.email = UserManager.normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_doctor(self) -> bool:
        return self.role == Role.DOCTOR


class Specialty(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


# Files in the zoneinfo directory that are not IANA zone names: "localtime" is whatever the server is set to.
NOT_ZONE_NAMES = frozenset({"localtime", "posixrules"})


def validate_timezone(value: str) -> None:
    if value in NOT_ZONE_NAMES or value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name.")


MAX_NOTICE_HOURS = 720  # 30 days


class DoctorProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="doctor_profile")
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, null=True, blank=True, related_name="doctors")
    phone_number = PhoneNumberField(blank=True, default="", help_text=E164_HELP)
    experience_years = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(80)])
    bio = models.TextField(blank=True, default="")
    clinic_name = models.CharField(max_length=200, blank=True, default="")
    clinic_address = models.CharField(max_length=500, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    slot_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    is_verified = models.BooleanField(default=False)
    # Booking policies: a patient may not cancel or reschedule with less notice than this (doctors and staff may).
    cancellation_notice_hours = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_NOTICE_HOURS)]
    )
    reschedule_notice_hours = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_NOTICE_HOURS)]
    )
    # Payments: a fee above 0 makes a patient's booking a hold until it is paid (the payments app).
    consultation_fee = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY, validators=[validate_currency])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5, slot_minutes__lte=240), name="doctorprofile_slot_minutes_range"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    cancellation_notice_hours__lte=MAX_NOTICE_HOURS, reschedule_notice_hours__lte=MAX_NOTICE_HOURS
                ),
                name="doctorprofile_notice_hours_range",
            ),
            models.CheckConstraint(condition=models.Q(consultation_fee__gte=0), name="doctorprofile_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Dr {self.user.get_full_name() or self.user.email}"

    def clean(self) -> None:
        try:
            validate_amount(self.consultation_fee, self.currency)
        except ValidationError as error:
            raise ValidationError({"consultation_fee": error.messages}) from error

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class PatientProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="patient_profile")
    date_of_birth = models.DateField(null=True, blank=True)
    address = models.CharField(max_length=500, blank=True, default="")
    emergency_contact_name = models.CharField(max_length=200, blank=True, default="")
    emergency_contact_phone = models.CharField(max_length=32, blank=True, default="")

    def __str__(self) -> str:
        return f"Patient {self.user.get_full_name() or self.user.email}"


class SocialAccount(models.Model):
    """A provider's account (OpenID Connect `sub`) that signs in as `user`; one per provider and subject."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="social_accounts")
    provider = models.CharField(max_length=32)
    subject = models.CharField(max_length=255)
    email = models.EmailField(max_length=254, help_text="The verified email the provider gave when linked.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="socialaccount_provider_subject_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.provider} account of user #{self.user_id}"
