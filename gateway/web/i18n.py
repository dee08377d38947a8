"""Message catalogues of the web pages (gettext .po files read with Babel) and locale choice.

Every user-visible string of the pages is a msgid in English; `locales/<locale>/messages.po`
holds its translation. The catalogues are read at start (no compile step, no .mo files in the
repository). Languages: English, Albanian, Macedonian (Cyrillic) and Serbian Latin, which
readers in Bosnia and Herzegovina, Montenegro and Serbia all read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LOCALES = ("en", "sq", "mk", "sr_Latn")
"""Babel identifiers of the languages offered; English is the source language."""
DEFAULT_LOCALE = "en"
DEFAULT_ZONE = "Europe/Belgrade"
ZONES = {
    "Europe/Belgrade": "Central European Time",
    "UTC": "Coordinated Universal Time (UTC)",
    "Europe/Athens": "Eastern European Time",
}
"""Time zones a user can choose (the whole region keeps Central European Time) -> msgid."""
PARTICIPANT_NAMES = {
    "AL": "Albania",
    "BA": "Bosnia and Herzegovina",
    "XK": "Kosovo*",
    "ME": "Montenegro",
    "MK": "North Macedonia",
    "RS": "Serbia",
}
"""The participants' names as msgids: Kosovo* carries its footnote mark in every language."""
NATIONALITY_NAMES = {"XKX": "Kosovo*", "XXA": "Stateless", "XXX": "Unknown", "unknown": "Unknown"}
"""Nationality codes that are not ISO territories, as msgids."""


_ALPHA3: dict[str, str] = {
    alpha3: aliases[0]
    for alpha3, aliases in get_global("territory_aliases").items()
    if len(alpha3) == 3 and alpha3.isalpha() and len(aliases) == 1 and len(aliases[0]) == 2
}
"""ISO alpha-3 -> alpha-2 from CLDR (Babel), to name nationalities in the user's language."""


@cache
def catalogue(locale: str) -> dict[str, str]:
    """msgid -> translation of one locale (English: empty, the msgids are the text)."""
    if locale == DEFAULT_LOCALE:
        return {}
    with (LOCALES_DIR / locale / "messages.po").open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string}


@dataclass(frozen=True)
class Translator:
    """Translations and formats of one locale, for one page."""

    locale: str
    zone: str = DEFAULT_ZONE

    def gettext(self, message: str) -> str:
        """The translation of `message` (itself when the catalogue has none)."""
        return catalogue(self.locale).get(message, message)

    def datetime(self, moment: datetime) -> str:
        """A date and time in the user's zone, formatted for the locale."""
        return format_datetime(moment, "short", tzinfo=ZoneInfo(self.zone), locale=self.locale)

    def date(self, day: date) -> str:
        """A calendar date formatted for the locale."""
        return format_date(day, "medium", locale=self.locale)

    def country(self, code: str) -> str:
        """A participant's name (from the catalogue) or a neighbour's (from CLDR)."""
        if code in PARTICIPANT_NAMES:
            return self.gettext(PARTICIPANT_NAMES[code])
        return str(Locale.parse(self.locale).territories.get(code, code))

    def section(self, section_id: str) -> str:
        """A border section in this language: `ME-RS-2` -> "Montenegro - Serbia (2)"."""
        parts = section_id.split("-")
        if len(parts) < 2:
            return section_id
        name = f"{self.country(parts[0])} \N{EN DASH} {self.country(parts[1])}"
        return f"{name} ({parts[2]})" if len(parts) > 2 else name

    def nationality(self, code: str) -> str:
        """A nationality (ISO 3166-1 alpha-3 or a user-assigned code) named in this language."""
        if code in NATIONALITY_NAMES:
            return self.gettext(NATIONALITY_NAMES[code])
        alpha2 = _ALPHA3.get(code)
        return self.country(alpha2) if alpha2 else code

    def number(self, value: int) -> str:
        """A count formatted for the locale."""
        return format_decimal(value, locale=self.locale)

    @property
    def tag(self) -> str:
        """The BCP 47 tag for `<html lang>` (sr-Latn, not sr_Latn)."""
        return self.locale.replace("_", "-")

    @property
    def name(self) -> str:
        """The language's own name, for the language switch."""
        return str(Locale.parse(self.locale).display_name)

    @property
    def zones(self) -> list[tuple[str, str]]:
        """(zone, name in this language) of the time zones a user can choose."""
        return [(zone, self.gettext(label)) for zone, label in ZONES.items()]


def choose_zone(requested: str | None) -> str:
    """The time zone times are shown in: one of ZONES, else Europe/Belgrade."""
    return requested if requested in ZONES else DEFAULT_ZONE


def choose_locale(requested: str | None, accept_language: str | None) -> str:
    """The locale a page is shown in: the one asked for (and remembered), else the browser's."""
    if requested:
        wanted = requested.replace("-", "_")
        if wanted in LOCALES:
            return wanted
    preferred = [
        part.split(";")[0].strip().replace("-", "_")
        for part in (accept_language or "").split(",")
        if part.strip()
    ]
    # Bosnian, Croatian and Montenegrin readers get the Serbian Latin catalogue.
    aliases = {"bs": "sr_Latn", "hr": "sr_Latn", "cnr": "sr_Latn", "sr": "sr_Latn"}
    preferred = [aliases.get(p.split("_")[0], p) for p in preferred]
    found = negotiate_locale(preferred, list(LOCALES), sep="_")
    return found if found in LOCALES else DEFAULT_LOCALE
