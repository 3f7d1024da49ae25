"""OWASP API Security Top 10 (2023), one module per risk that applies to CyberMed.

API1 object-level authorization, API2 authentication, API3 object-property-level authorization,
API4 resource consumption, API5 function-level authorization, API6 sensitive business flows,
API8 security misconfiguration (plus test_logging and test_database_unavailable), API9 inventory.

Not applicable: API7 server-side request forgery (the API never fetches a URL a client supplies) and
API10 unsafe consumption of APIs (it calls no third-party API; email goes out through Django's backend).
"""
