"""The API's throttle scopes and their default rates: the one list that settings, the system tests and the
benchmarks read. Each rate can be changed by the environment variable `THROTTLE_<SCOPE>`; "none" turns the
scope off. No Django import here: the test and bench harnesses read it before Django is configured."""

from collections.abc import Mapping

DEFAULT_RATES: dict[str, str] = {
    "anon": "300/min",
    "user": "2000/hour",
    "login": "10/min",
    "register": "10/hour",
    "refresh": "60/min",
    "password_reset": "5/hour",
    "activation_resend": "5/hour",
    # Calendar apps refresh a subscribed feed every few minutes at most; this only stops token guessing floods.
    "calendar_feed": "60/min",
    # Per user: posting messages, retracting them and moving read watermarks.
    "messaging": "120/min",
}


def env_name(scope: str) -> str:
    return f"THROTTLE_{scope.upper()}"


def rates(environ: Mapping[str, str]) -> dict[str, str | None]:
    """Each scope's rate (DRF's DEFAULT_THROTTLE_RATES): the environment's, else the default; None is off."""
    chosen = {scope: environ.get(env_name(scope), default).strip() for scope, default in DEFAULT_RATES.items()}
    return {scope: None if value.lower() == "none" else value for scope, value in chosen.items()}


def all_off() -> dict[str, str]:
    """Environment variables that turn every scope off (load generators and fuzzers, never production)."""
    return {env_name(scope): "none" for scope in DEFAULT_RATES}
