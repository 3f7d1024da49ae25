"""Demo accounts for `manage.py seed_demo`: idempotent, safe to run on every start.

Only users and their profiles: the apps above seed their own data for these accounts.
"""

from dataclasses import dataclass

from users.choices import Gender, Role
from users.models import DoctorProfile, PatientProfile, Specialty, User

DEMO_PASSWORD = "CyberMed-demo-2026!"

SPECIALTIES = ["Cardiology", "Dermatology", "General Practice", "Pediatrics", "Neurology", "Orthopedics"]
STAFF_EMAIL = "admin@cybermed.local"
DOCTORS = [
    # email, first, last, gender, specialty, timezone, clinic, address, years
    ("amara.okafor@cybermed.local", "Amara", "Okafor", Gender.FEMALE, "Cardiology", "Africa/Lagos",
     "Lagos Heart Centre", "12 Awolowo Road, Ikoyi, Lagos", 14),
    ("james.whitfield@cybermed.local", "James", "Whitfield", Gender.MALE, "Dermatology", "Europe/London",
     "Harley Skin Clinic", "20 Harley Street, London", 9),
    ("maria.gonzalez@cybermed.local", "Maria", "Gonzalez", Gender.FEMALE, "Pediatrics", "America/New_York",
     "Brooklyn Children's Practice", "300 Atlantic Ave, Brooklyn, NY", 11),
    ("kenji.tanaka@cybermed.local", "Kenji", "Tanaka", Gender.MALE, "General Practice", "Asia/Tokyo",
     "Shibuya Family Clinic", "2-1 Dogenzaka, Shibuya, Tokyo", 6),
]  # fmt: skip
PATIENTS = [
    ("chidi.eze@example.com", "Chidi", "Eze", Gender.MALE, "1988-03-14"),
    ("emily.clarke@example.com", "Emily", "Clarke", Gender.FEMALE, "1995-07-02"),
    ("liam.johnson@example.com", "Liam", "Johnson", Gender.MALE, "2012-11-23"),
    ("sofia.rossi@example.com", "Sofia", "Rossi", Gender.FEMALE, "1972-01-30"),
]


@dataclass(frozen=True)
class DemoUsers:
    logins: list[tuple[str, str, str]]  # (role, email, password) for each demo login
    doctors: list[User]
    patients: list[User]


def _in_order(emails: list[str]) -> list[User]:
    by_email = User.objects.in_bulk(emails, field_name="email")
    return [by_email[email] for email in emails if email in by_email]


def demo_doctors() -> list[User]:
    """The demo doctors that exist, in the order of DOCTORS."""
    return _in_order([row[0] for row in DOCTORS])


def demo_patients() -> list[User]:
    """The demo patients that exist, in the order of PATIENTS."""
    return _in_order([row[0] for row in PATIENTS])


def _user(*, email: str, password: str, **fields) -> User:
    user, _ = User.objects.update_or_create(email=email, defaults={"is_active": True, **fields})
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def seed() -> DemoUsers:
    """Create or refresh the demo staff, doctors and patients with their profiles."""
    specialties = {name: Specialty.objects.get_or_create(name=name)[0] for name in SPECIALTIES}
    logins = [("staff", STAFF_EMAIL, DEMO_PASSWORD)]
    _user(
        email=STAFF_EMAIL,
        password=DEMO_PASSWORD,
        first_name="Site",
        last_name="Admin",
        role="",
        is_staff=True,
        is_superuser=True,
    )

    doctors = []
    for email, first, last, gender, specialty, tz, clinic, address, years in DOCTORS:
        doctor = _user(email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, role=Role.DOCTOR,
                       gender=gender)  # fmt: skip
        DoctorProfile.objects.update_or_create(
            user=doctor,
            defaults={
                "specialty": specialties[specialty],
                "timezone": tz,
                "clinic_name": clinic,
                "clinic_address": address,
                "experience_years": years,
                "slot_minutes": 30,
                "bio": f"{specialty} specialist at {clinic}.",
                "is_verified": True,
            },
        )
        doctors.append(doctor)
        logins.append((Role.DOCTOR.value, email, DEMO_PASSWORD))

    patients = []
    for email, first, last, gender, born in PATIENTS:
        patient = _user(email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, role=Role.PATIENT,
                        gender=gender)  # fmt: skip
        PatientProfile.objects.update_or_create(user=patient, defaults={"date_of_birth": born})
        patients.append(patient)
        logins.append((Role.PATIENT.value, email, DEMO_PASSWORD))

    return DemoUsers(logins=logins, doctors=doctors, patients=patients)
