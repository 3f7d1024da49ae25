from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    """A read-only FHIR R4 view of the schedule (`/fhir/`). The top layer: it reads users and appointments,
    and nothing imports it but the URL configuration. No models of its own.

    Named `fhir_api`, not `fhir`: the `fhir.resources` library (used by the tests to validate every
    resource) lives in a `fhir` namespace package that a local `fhir` package would shadow."""

    name = "fhir_api"
    verbose_name = "FHIR R4 API"
