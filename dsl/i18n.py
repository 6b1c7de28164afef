"""One message catalog for every user-facing string (gettext, domain `zhili`).

English is the source language; Simplified Chinese lives in
`dsl/locale/zh_CN/LC_MESSAGES/zhili.po` (compiled to `.mo` beside it).
The language comes from `--lang`, else `ZHILI_LANG`, else the locale
(`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`).
"""

from __future__ import annotations

import gettext as _gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "zhili"
LANGUAGES = ("en", "zh")

_translation: _gettext.NullTranslations = _gettext.NullTranslations()
_language = "en"


def detect_language() -> str:
    """The language asked for by the environment: "zh" or "en"."""
    for var in ("ZHILI_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str | None) -> str:
    """Switch every later message to `lang` ("en", "zh", or None to detect)."""
    global _translation, _language
    lang = (lang or detect_language()).lower()
    lang = "zh" if lang.startswith("zh") else "en"
    if lang == "zh":
        _translation = _gettext.translation(
            DOMAIN, localedir=str(LOCALE_DIR), languages=["zh_CN"], fallback=True
        )
    else:
        _translation = _gettext.NullTranslations()
    _language = lang
    return lang


def language() -> str:
    return _language


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return _translation.gettext(message)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it now (it is
    translated where it is shown)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)
