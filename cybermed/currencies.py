"""The currencies a consultation fee may be charged in: the ISO 4217 codes PayPal accepts, with their minor units.

Kept in the lowest layer so that the doctor profile (users) can validate a fee and payments can format one,
without either importing the other. PayPal's list is a strict subset of ISO 4217; a code outside it could be
saved but never charged, so it is refused up front (400) rather than at payment time.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError

# https://developer.paypal.com/reference/currency-codes/ — code: digits after the decimal point.
PAYPAL_CURRENCIES: dict[str, int] = {
    "AUD": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 0,
    "ILS": 2,
    "JPY": 0,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "PHP": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TWD": 0,
    "USD": 2,
}
DEFAULT_CURRENCY = "USD"


def validate_currency(code: str) -> None:
    if code not in PAYPAL_CURRENCIES:
        raise ValidationError(f"Not a supported ISO 4217 currency code: {sorted(PAYPAL_CURRENCIES)}.")


def validate_amount(amount: Decimal, currency: str) -> None:
    """An amount that can be charged in `currency`: not negative, no more decimals than the currency has."""
    if amount < 0:
        raise ValidationError("Must not be negative.")
    digits = PAYPAL_CURRENCIES.get(currency, 2)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise ValidationError(f"{currency} amounts have {digits} decimal places at most.")


def format_amount(amount: Decimal, currency: str) -> str:
    """The amount as PayPal and our API write it: a decimal string with the currency's number of decimals."""
    return str(amount.quantize(Decimal(1).scaleb(-PAYPAL_CURRENCIES.get(currency, 2))))
