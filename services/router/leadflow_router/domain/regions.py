"""Country (ISO-3166 alpha-2) → sales region, for rules that route by region.

Deliberately coarse (AMER / EMEA / APAC); an upstream that knows better sends
``custom.region`` and that wins.
"""

from __future__ import annotations

_AMER = "US CA MX BR AR CL CO PE UY PY BO EC VE CR PA GT HN SV NI DO PR JM TT BS CU HT"
_APAC = "AU NZ JP CN HK TW KR SG MY TH VN PH ID IN PK BD LK NP MM KH LA MN FJ PG MO BN"
_REGION = dict.fromkeys(_AMER.split(), "AMER") | dict.fromkeys(_APAC.split(), "APAC")


def region_of(country: str | None) -> str | None:
    """AMER, APAC, or EMEA for every other country; None when the country is unknown."""
    if country is None:
        return None
    return _REGION.get(country.upper(), "EMEA")
