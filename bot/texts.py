"""Every text the bot shows: jinja2 templates with autoescape, translated through Babel.

Templates live in ``bot/templates/`` and are written with English message ids
(``{% trans %}…{% endtrans %}``, ``_("…")``); ``bot/locale/zh/LC_MESSAGES/messages.po``
holds the Simplified Chinese, which is the default language. Short labels that are not
HTML (button texts, command descriptions) are marked in Python with :func:`N_` and
translated with :meth:`Texts.gettext`. User text is escaped by autoescape everywhere.

To refresh the catalogue after changing a text::

    pybabel extract -F babel.cfg -k N_ -o bot/locale/messages.pot --omit-header --no-location .
    pybabel update -i bot/locale/messages.pot -d bot/locale -l zh --no-fuzzy-matching \
        --ignore-obsolete -w 100
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bot.vocabulary import case_number
from scoring import fmt

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
BABEL_LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def N_(message: str) -> str:
    """Mark a label for extraction; :meth:`Texts.gettext` translates it when shown."""
    return message


def lang_of(language_code: str | None) -> str:
    """The bot's language for a Telegram ``language_code``: English for en*, else Chinese."""
    return "en" if (language_code or "").lower().startswith("en") else DEFAULT_LANG


def load_translations(lang: str) -> NullTranslations:
    """The catalogue for ``lang``, compiled in memory from its .po file (no build step)."""
    if lang == "en":
        return NullTranslations()
    po = resources.files("bot").joinpath("locale", lang, "LC_MESSAGES", "messages.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=BABEL_LOCALES[lang])
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


class Texts:
    """Renders templates in a language; one jinja2 environment per language."""

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(timezone)
        self._translations = {lang: load_translations(lang) for lang in LANGS}
        self._envs = {lang: self._environment(lang) for lang in LANGS}
        self._popups: dict[tuple[str, str, tuple[tuple[str, Any], ...]], Markup] = {}

    def _environment(self, lang: str) -> Environment:
        env = Environment(
            loader=PackageLoader("bot", "templates"),
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates ship with the code: no stat() per render
        )
        env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
        env.install_gettext_translations(self._translations[lang], newstyle=True)  # type: ignore[attr-defined]
        locale = BABEL_LOCALES[lang]
        env.filters["date"] = lambda value: self._date(value, locale)
        env.filters["datetime"] = lambda value: self._datetime(value, locale)
        env.filters["shorten"] = shorten
        env.filters["score"] = fmt  # exact scores, rounded half up to two places
        env.filters["ref"] = lambda value: self.ref(lang, value)
        env.globals["lang"] = lang
        return env

    def ref(self, lang: str, ref: str) -> str:
        """A problem's reference as people read it: the bot's case 17 is 第 17 号 / No. 17
        (never the stored ``case-17``); a reference from outside as it was recorded."""
        number = case_number(ref)
        return ref if number is None else self.gettext(lang, "No. %(number)s", number=number)

    def _local(self, value: dt.datetime | dt.date) -> dt.datetime | dt.date:
        if isinstance(value, dt.datetime):
            return value.astimezone(self.tz)
        return value

    def _date(self, value: dt.datetime | dt.date, locale: str) -> str:
        local = self._local(value)
        day = local.date() if isinstance(local, dt.datetime) else local
        return format_date(day, "long", locale=locale)

    def _datetime(self, value: dt.datetime, locale: str) -> str:
        local = value.astimezone(self.tz)
        return f"{format_date(local.date(), 'long', locale=locale)} {local:%H:%M}"

    def render(self, name: str, lang: str, /, **context: Any) -> Markup:
        """The template ``name`` (``"opinion/step_unit"``) in ``lang``, whitespace trimmed.

        The result is safe HTML (every value in it was escaped), so it may be put into
        another template as it is.
        """
        template = self._envs.get(lang, self._envs[DEFAULT_LANG]).get_template(f"{name}.j2")
        return Markup(template.render(**context).strip())

    def popup(self, name: str, lang: str, /, **values: str | int | bool) -> Markup:
        """A short text of plain values (a ballot press's pop-up), rendered once for each
        language and values and then remembered: a meeting shows the same few texts
        thousands of times, and rendering was a tenth of a press's work (measured)."""
        key = (name, lang, tuple(sorted(values.items())))
        shown = self._popups.get(key)
        if shown is None:
            if len(self._popups) >= 4096:
                self._popups.clear()
            shown = self._popups[key] = self.render(name, lang, **values)
        return shown

    def gettext(self, lang: str, message: str, **values: Any) -> str:
        """A plain label (not HTML) in ``lang``; ``values`` fill ``%(name)s`` placeholders."""
        text = self._translations.get(lang, self._translations[DEFAULT_LANG]).gettext(message)
        return text % values if values else text


def shorten(text: str, limit: int = 200) -> str:
    """At most ``limit`` characters of ``text``, with an ellipsis if cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
