"""Korean postal addresses: road-name (도로명) and lot-number (지번), down to the building or lot."""

from __future__ import annotations

import re

from jaju.privacy.recognizer import Pattern, PatternRecognizer, Scan

_SIDO = (r"(?:서울특별시|서울시|서울|부산광역시|부산시|부산|대구광역시|대구시|대구|인천광역시|인천시|인천|"
         r"광주광역시|광주시|광주|대전광역시|대전시|대전|울산광역시|울산시|울산|세종특별자치시|세종시|세종|"
         r"경기도|경기|강원특별자치도|강원도|강원|충청북도|충북|충청남도|충남|전북특별자치도|전라북도|전북|"
         r"전라남도|전남|경상북도|경북|경상남도|경남|제주특별자치도|제주도|제주)")
_SIGUNGU = r"[가-힣]{1,4}(?:시|군|구)"
_EUPMYEON = r"[가-힣]{1,4}(?:읍|면)"
# 테헤란로, 세종대로, 강남대로94길, 성수이로7길, 삼일대로 12길
_ROAD = r"[가-힣0-9]{1,10}(?:로|길)(?:[ \t]?\d{1,3}(?:번길|길|가길))?"
_BLDG = r"\d{1,5}(?:-\d{1,4})?(?:번지)?"
_DONG = r"[가-힣]{1,5}\d?(?:동|리|가)(?:[ \t]?\d{1,2}가)?"
_LOT = r"(?:산[ \t]?)?\d{1,5}(?:-\d{1,5})?(?:번지)?"
# ", 101동 1502호", " 3층", " (역삼동)", " 한빛아파트 101동 1502호"
_DETAIL = (r"(?:,?[ \t]?(?:[가-힣A-Za-z0-9]{1,12}(?:아파트|빌라|오피스텔|타워|빌딩|맨션|하이츠)[ \t]?)?"
           r"(?:\d{1,4}동[ \t]?)?\d{1,5}호|,?[ \t]\d{1,3}층)?(?:[ \t]?\([가-힣0-9, ]{1,20}\))?")
_S = r"[ \t]{1,2}"
_REGION = r"(?:" + _SIDO + _S + r")?(?:" + _SIGUNGU + _S + r"){1,2}(?:" + _EUPMYEON + _S + r")?"


class KrAddressRecognizer(PatternRecognizer):
    """A district (시/군/구) then a road and building number, or a neighbourhood (동/리/가) and lot number."""

    entity = "KR_ADDRESS"
    patterns = (
        Pattern("road", r"(?<![가-힣])" + _REGION + _ROAD + _S + r"?" + _BLDG + r"(?!\d)" + _DETAIL, 0.75),
        Pattern("lot", r"(?<![가-힣])" + _REGION + _DONG + _S + _LOT + r"(?!\d)" + _DETAIL, 0.7),
        # Without a district, a province or metropolitan city must lead: "서울 테헤란로 152".
        Pattern("road_short", r"(?<![가-힣])" + _SIDO + _S + _ROAD + _S + r"?" + _BLDG + r"(?!\d)" + _DETAIL, 0.6),
    )
    context = ("주소", "거주", "사는", "살고", "살아", "삽니다", "배송지", "배송", "택배", "보내", "자택", "집", "우편", "소재지",
               "주소지", "address", "ship to", "deliver", "live")
    min_digits = 1  # the building or lot number

    def analyze(self, scan: Scan):
        # Every address here has a road, neighbourhood or lot word right before a number.
        if not scan.has_hangul or _PRECHECK.search(scan.norm.text) is None:
            return []
        return super().analyze(scan)


_PRECHECK = re.compile(r"(?:로|길|동|리|가|구|시|군|읍|면)[ \t]{0,2}(?:산[ \t]?)?\d")
