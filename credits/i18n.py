"""Translations for text the domain produces outside a web request (PDFs, CLI, errors)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DEFAULT_LOCALE = "zh_CN"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


@lru_cache(maxsize=8)
def translator(locale: str = DEFAULT_LOCALE) -> NullTranslations:
    """Return the compiled catalogue for a locale (untranslated text when none is built)."""
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def gettext(message: str, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    """Translate a message and fill its %(name)s placeholders."""
    text = translator(locale).gettext(message)
    return text % params if params else text
