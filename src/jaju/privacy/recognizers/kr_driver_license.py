"""운전면허번호 (Korean driver licence number): NN-NN-NNNNNN-NN, region as a code or a name."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, Pattern, PatternRecognizer

# Region codes 11-26 and 28 (경기북부); since 2011 licences may print the region name instead.
_REGION_CODE = r"(?:1[1-9]|2[0-6]|28)"
_REGION_NAME = r"(?:서울|부산|경기|강원|충북|충남|전북|전남|경북|경남|제주|대구|인천|광주|대전|울산|세종)"


class KrDriverLicenseRecognizer(PatternRecognizer):
    """Driver licence numbers in their printed shape."""

    entity = "KR_DRIVER_LICENSE"
    min_digits = 10  # region name + 2 + 6 + 2; the coded forms have 12
    patterns = (
        Pattern("license_code", r"(?=[12])(?<![\d-])" + _REGION_CODE
                + r"[ \t]?-[ \t]?\d{2}[ \t]?-[ \t]?\d{6}[ \t]?-[ \t]?\d{2}" + NUM_END, 0.6),
        Pattern("license_name", _REGION_NAME + r"[ \t]?\d{2}[ \t]?-[ \t]?\d{6}[ \t]?-[ \t]?\d{2}" + NUM_END, 0.6),
        Pattern("license_bare", r"(?=[12])(?<!\d)" + _REGION_CODE + r"\d{10}" + NUM_END, 0.2),
    )
    context = ("운전면허", "면허번호", "운전면허증", "면허증", "driver", "driving licence", "driver's license",
               "license number", "licence")
