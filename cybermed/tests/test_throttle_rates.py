from django.conf import settings

from cybermed import throttle_rates


def test_defaults_when_the_environment_says_nothing():
    assert throttle_rates.rates({}) == throttle_rates.DEFAULT_RATES


def test_environment_overrides_one_scope_and_none_turns_it_off():
    rates = throttle_rates.rates({"THROTTLE_LOGIN": " 3/min ", "THROTTLE_MESSAGING": "None"})
    assert rates["login"] == "3/min"
    assert rates["messaging"] is None
    assert rates["anon"] == throttle_rates.DEFAULT_RATES["anon"]


def test_all_off_turns_off_every_scope_drf_is_configured_with():
    assert throttle_rates.rates(throttle_rates.all_off()) == dict.fromkeys(
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    )
