"""The pages' strings as the catalogues know them, for the unit and browser tests of languages."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from gateway.web.i18n import catalogue

WEB = Path(__file__).resolve().parents[1] / "gateway" / "web"
SAME_IN = {"sq": {"Serbia"}, "mk": set(), "sr_Latn": {"Kosovo*", "Period"}}
"""Words spelled as in English in that language (checked one by one, not a loophole)."""


def page_msgids() -> set[str]:
    """Every string the pages show translated, extracted as `make messages` extracts them."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "N_": None, "gettext": None}
    return {str(found[2]) for found in extract_from_dir(WEB, method_map, keywords=keywords)}


def same_in(locale: str) -> set[str]:
    """Words spelled as in English in `locale` (a BCP 47 tag or a Babel identifier)."""
    return SAME_IN[locale.replace("-", "_")]


def english_on_page(text: str, locale: str) -> list[str]:
    """Catalogue strings a page in `locale` shows in English.

    A string counts when it is longer than 3 characters, is not spelled the same in the
    language, and is not part of one of the language's own translations (Serbian "Status
    prihvata" holds the word "Status" and is Serbian).
    """
    own = catalogue(locale.replace("-", "_")).values()
    return sorted(
        m
        for m in page_msgids() - same_in(locale)
        if len(m) > 3 and m in text and not any(m in translated for translated in own)
    )
