"""Message catalogues of the web pages (gettext .po files read with Babel) and locale choice.

Every user-visible string of the pages is a msgid in English; `locales/<locale>/messages.po`
holds its translation. The catalogues are read at start (no compile step, no .mo files in the
repository). Languages: English, Albanian, Macedonian (Cyrillic) and Serbian Latin, which
readers in Bosnia and Herzegovina, Montenegro and Serbia all read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
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


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Mark a msgid for extraction where it is defined; it is translated where it is shown."""
    return message


ZONES = {
    "Europe/Belgrade": N_("Central European Time"),
    "UTC": N_("Coordinated Universal Time (UTC)"),
    "Europe/Athens": N_("Eastern European Time"),
}
"""Time zones a user can choose (the whole region keeps Central European Time) -> msgid."""
PARTICIPANT_NAMES = {
    "AL": N_("Albania"),
    "BA": N_("Bosnia and Herzegovina"),
    "XK": N_("Kosovo*"),
    "ME": N_("Montenegro"),
    "MK": N_("North Macedonia"),
    "RS": N_("Serbia"),
}
"""The participants' names as msgids: Kosovo* carries its footnote mark in every language."""
NATIONALITY_NAMES = {
    "XKX": N_("Kosovo*"),
    "XXA": N_("Stateless"),
    "XXX": N_("Unknown"),
    "unknown": N_("Unknown"),
}
"""Nationality codes that are not ISO territories, as msgids."""
VULNERABILITY_LABELS = {
    "uam": N_("Unaccompanied minor"),
    "separated_child": N_("Separated child"),
    "vot": N_("Victim of trafficking"),
    "disability": N_("Disability"),
    "woman_at_risk": N_("Woman at risk"),
    "torture_victim": N_("Victim of torture"),
    "serious_illness": N_("Serious illness"),
}
EVENT_TYPE_LABELS = {
    "apprehension": N_("Apprehension"),
    "asylum_intention": N_("Intention to seek asylum"),
    "asylum_application": N_("Asylum application"),
    "vulnerability_identified": N_("Vulnerability identified"),
    "referral": N_("Referral"),
    "reception_status": N_("Reception status"),
    "return": N_("Return"),
    "irregular_crossing_attempt": N_("Irregular crossing attempt"),
    "migrant_smuggling": N_("Migrant smuggling"),
    "trafficking_indicators": N_("Trafficking indicators"),
    "document_fraud": N_("Document fraud"),
    "violence_or_injury": N_("Violence or injury"),
    "death_or_missing_person": N_("Death or missing person"),
    "protection_concern": N_("Protection concern"),
}
"""msgids of the event kinds (the short names statistics are counted by)."""
HANDLING_LABELS = {
    "H0": N_("law-enforcement use only"),
    "H1": N_("not for judicial proceedings without the provider's permission"),
    "H2": N_("no onward dissemination without the provider's permission"),
    "H3": N_("other restrictions stated by the provider"),
}
"""Europol handling codes, explained."""
PURPOSE_LABELS = {
    "border_security": N_("Border security"),
    "law_enforcement": N_("Law enforcement"),
    "protection": N_("Protection"),
    "asylum_procedure": N_("Asylum procedure"),
    "statistics": N_("Statistics"),
}
RELIABILITY_LABELS = {
    "A": N_("A: completely reliable"),
    "B": N_("B: usually reliable"),
    "C": N_("C: not usually reliable"),
    "X": N_("X: reliability cannot be judged"),
}
ACCURACY_LABELS = {
    1: N_("1: known to be true without reservation"),
    2: N_("2: known personally to the source, not to the official passing it on"),
    3: N_("3: not known personally to the source, corroborated by other information"),
    4: N_("4: accuracy cannot be judged"),
}
"""Europol's 4x4 grading, explained."""
SUMMARY_LABELS = {
    "group_size": N_("Group size"),
    "count": N_("Count"),
    "persons_smuggled": N_("Persons smuggled"),
    "heading_to": N_("Heading to"),
    "status": N_("Status"),
    "direction": N_("Direction"),
    "vehicle": N_("Vehicle (pseudonym)"),
    "vulnerabilities": N_("Vulnerabilities"),
    "pseudonyms": N_("Pseudonyms"),
}
"""The facts an alert lists per event (`consumers/route.py` picks them)."""


SEVERITY_WORDS = (N_("low"), N_("medium"), N_("high"), N_("critical"))
STATUS_WORDS = (N_("open"), N_("acknowledged"), N_("escalated"))
RULE_DESCRIPTIONS = (
    N_("Unaccompanied or separated child, or victim of trafficking, identified"),
    N_("Death or missing person"),
    N_("Migrant smuggling with a vehicle heading across the border"),
    N_("Group apprehension of 30 or more"),
    N_("Surge: apprehensions in the last 6 hours above 3x the trailing 7-day rate"),
    N_("Same person reported in two participants within 72 hours"),
)
"""The descriptions of `infra/alert_rules.toml` as msgids: an alert's title in the console
(a test keeps this list equal to the rules file)."""
AGE_WORDS = (N_("just now"), N_("{n} min ago"), N_("{n} h ago"), N_("{n} d ago"))
"""How long ago an event was, coarse on purpose (the exact time is next to it)."""


def age_text(seconds: float, t: Translator) -> str:
    """`seconds` since an event in words; static/console.js words it the same way."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 1:
        return t.gettext("just now")
    if minutes < 60:
        return t.gettext("{n} min ago").format(n=minutes)
    if minutes < 24 * 60:
        return t.gettext("{n} h ago").format(n=minutes // 60)
    return t.gettext("{n} d ago").format(n=minutes // (24 * 60))


CONSOLE_WORDS = (
    *AGE_WORDS,
    N_("Live"),
    N_("Connection lost, reconnecting…"),
    N_("Acknowledge"),
    N_("Acknowledging…"),
    N_("Acknowledged by {who}"),
    N_("The acknowledgement failed: {reason}"),
    N_("Note (optional)"),
    N_("Note"),
    N_("Details"),
    N_("open alerts"),
    *SEVERITY_WORDS,
    *STATUS_WORDS,
)
"""What the console's script writes into new rows, translated on the server."""
SEX_LABELS = {"male": N_("Male"), "female": N_("Female"), "unknown": N_("Unknown")}
MEASURE_LABELS = {"persons": N_("Persons"), "events": N_("Events")}
PERIOD_LABELS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
CAPTIONS = {"day": N_("Daily counts"), "week": N_("Weekly counts"), "month": N_("Monthly counts")}


def rule_title(title: str, section: str, t: Translator) -> str:
    """An alert's rule in this language: titles are "<rule description> (<section>)", and the
    rule descriptions of `infra/alert_rules.toml` are msgids of the catalogue."""
    suffix = f" ({section})"
    description = title.removesuffix(suffix)
    return t.gettext(description)


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

    def utc(self, moment: datetime) -> str:
        """The same moment in UTC, unambiguous across borders (shown on hover)."""
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

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
