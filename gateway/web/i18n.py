"""Message catalogues of the web pages (gettext .po files read with Babel) and locale choice.

Every user-visible string of the pages is a msgid in English; `locales/<locale>/messages.po`
holds its translation. The catalogues are read at start (no compile step, no .mo files in the
repository). Languages: English, Albanian, Macedonian (Cyrillic) and Serbian Latin, which
readers in Bosnia and Herzegovina, Montenegro and Serbia all read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import negotiate_locale
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LOCALES = ("en", "sq", "mk", "sr_Latn")
"""Babel identifiers of the languages offered; English is the source language."""
DEFAULT_LOCALE = "en"
DEFAULT_ZONE = "Europe/Belgrade"


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
