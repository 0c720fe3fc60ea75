"""IPv4 and IPv6 addresses."""

from __future__ import annotations

import ipaddress

from jaju.privacy.recognizer import Pattern, PatternRecognizer

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"


class IpAddressRecognizer(PatternRecognizer):
    """IPv4 dotted quads and IPv6 addresses checked by the ipaddress module."""

    entity = "IP_ADDRESS"
    patterns = (
        Pattern("ipv4", r"(?=\d)(?<![\d.])" + _OCTET + r"(?:\." + _OCTET + r"){3}(?![\d]|\.\d)", 0.6),
        Pattern("ipv6", r"(?=[0-9A-Fa-f])(?<![0-9A-Fa-f:])"
                r"(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f:]{1,30}(?![0-9A-Fa-f:])", 0.6),
    )
    context = ("ip", "아이피", "접속", "서버", "주소", "로그", "address", "host", "server", "login")
    negative_context = ("버전", "version", "ver", "v.")
    min_digits = 1  # IPv6 may be all letters, but a digit-free text was never scanned

    def validate(self, value: str) -> bool | None:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return False
        # 0.0.0.0 and the like are not anyone's address; neither is a version string such as 1.0.0.0.
        return None if not ip.is_unspecified else False
