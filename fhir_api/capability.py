"""What the server supports, declared once: the CapabilityStatement and the views' accepted parameters."""

from fhir_api.resources import FHIR_VERSION

# Per resource: its search parameters (name, FHIR type, what it does). The views accept exactly these
# (plus _count, _page, _format) and answer 400 to anything else.
SEARCH_PARAMS: dict[str, list[tuple[str, str, str]]] = {
    "Appointment": [
        ("_id", "token", "The appointment id."),
        ("patient", "reference", "Patient/<id>: appointments of this patient."),
        ("practitioner", "reference", "Practitioner/<id>: appointments with this doctor."),
        ("actor", "reference", "Patient/<id> or Practitioner/<id>."),
        ("date", "date", "Appointment start; prefixes eq ne gt ge lt le; repeat to AND (a range)."),
        ("status", "token", "pending, booked, fulfilled, cancelled, noshow; comma = OR."),
    ],
    "Slot": [
        ("schedule", "reference", "Required: Schedule/<doctor id>."),
        ("start", "date", "Required lower bound (ge or gt); optional upper (lt or le), at most 62 days later."),
        ("status", "token", "free (the only status served)."),
    ],
    "Schedule": [],
    "Practitioner": [],
    "Patient": [],
}
READ = {"Appointment", "Schedule", "Practitioner", "Patient"}
SEARCH = {"Appointment", "Slot"}


def capability_statement(*, base: str, date: str) -> dict:
    resources = []
    for resource_type, params in SEARCH_PARAMS.items():
        interactions = [{"code": "read"}] if resource_type in READ else []
        if resource_type in SEARCH:
            interactions.append({"code": "search-type"})
        entry: dict = {"type": resource_type, "interaction": interactions}
        if params:
            entry["searchParam"] = [{"name": name, "type": kind, "documentation": doc} for name, kind, doc in params]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "CyberMed",
        "kind": "instance",
        "software": {"name": "CyberMed"},
        "implementation": {"description": "CyberMed FHIR R4 read API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only. The same scoping as the REST API: patients see their own "
                "appointments, doctors theirs, staff all.",
                "security": {
                    "cors": True,
                    "description": "Authorization: Bearer <access JWT> from POST /api/auth/login/ (the REST "
                    "API's token). Only /fhir/metadata is public.",
                },
                "resource": resources,
            }
        ],
    }
