"""The built-in recognizers, listed explicitly (no directory scanning)."""

from __future__ import annotations

from jaju.korean import KoreanAnalyzer
from jaju.privacy.recognizer import Recognizer
from jaju.privacy.recognizers.credit_card import CreditCardRecognizer
from jaju.privacy.recognizers.email import EmailRecognizer
from jaju.privacy.recognizers.iban import IbanRecognizer
from jaju.privacy.recognizers.ip_address import IpAddressRecognizer
from jaju.privacy.recognizers.kr_address import KrAddressRecognizer
from jaju.privacy.recognizers.kr_bank_account import KrBankAccountRecognizer
from jaju.privacy.recognizers.kr_brn import KrBrnRecognizer
from jaju.privacy.recognizers.kr_crn import KrCrnRecognizer
from jaju.privacy.recognizers.kr_driver_license import KrDriverLicenseRecognizer
from jaju.privacy.recognizers.kr_frn import KrFrnRecognizer
from jaju.privacy.recognizers.kr_passport import KrPassportRecognizer
from jaju.privacy.recognizers.kr_phone import KrPhoneRecognizer
from jaju.privacy.recognizers.kr_rrn import KrRrnRecognizer
from jaju.privacy.recognizers.person import PersonRecognizer
from jaju.privacy.recognizers.sa_national_id import SaNationalIdRecognizer

PATTERN_RECOGNIZERS = (
    KrRrnRecognizer, KrFrnRecognizer, KrPassportRecognizer, KrDriverLicenseRecognizer, KrBrnRecognizer,
    KrCrnRecognizer, KrPhoneRecognizer, KrBankAccountRecognizer, CreditCardRecognizer, EmailRecognizer,
    IpAddressRecognizer, KrAddressRecognizer, IbanRecognizer, SaNationalIdRecognizer,
)


def builtin_recognizers(korean: KoreanAnalyzer | None) -> list[Recognizer]:
    """One instance of every built-in recognizer; PERSON uses Kiwi when `korean` is given."""
    return [cls() for cls in PATTERN_RECOGNIZERS] + [PersonRecognizer(korean)]


ENTITIES = tuple(cls.entity for cls in PATTERN_RECOGNIZERS) + (PersonRecognizer.entity,)
