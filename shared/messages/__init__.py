"""One message table per language, keyed by error code: Bahasa Indonesia first, English.

:func:`render` fills a code's template with its parameters. Templates use
:meth:`str.format` fields with extra format specs:

* ``{amount:rupiah}`` writes an integer amount the Indonesian way ("Rp 12.500");
* ``{amount:num}`` writes a whole number with the language's thousands separator
  ("12,500" in English, "12.500" in Bahasa Indonesia);
* ``{threshold_bp:bp}`` writes basis points as a percentage ("12.5" / "12,5");
* ``{state:msg}`` writes the message of the code held by the parameter, with the same
  parameters (a word or clause that itself differs per language); ``{role:msg:role_}``
  puts ``role_`` before the value to make the code. A value that is no known code is
  written as it is (say, a server's own sentence for a code we have no message for).

A code missing from a language falls back to English, then to the code itself; a
missing parameter leaves its field as written. Every code has both messages, with the
same fields (tests check it).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any, Literal

from shared.messages import en as _en
from shared.messages import id as _id
from shared.money import format_rupiah

Language = Literal["id", "en"]
DEFAULT_LANGUAGE: Language = "id"

MESSAGES: dict[str, dict[str, str]] = {"id": _id.MESSAGES, "en": _en.MESSAGES}


def _table(language: str) -> Mapping[str, str]:
    return MESSAGES.get(language, MESSAGES[DEFAULT_LANGUAGE])


_SEPARATORS = {"id": (".", ","), "en": (",", ".")}
"""Per language: (thousands separator, decimal mark)."""


class _Formatter(string.Formatter):
    def __init__(self, language: str, params: Mapping[str, Any]) -> None:
        self.language = language
        self.params = params

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str) and key not in kwargs:
            return _Missing(key)
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Missing):
            return str(value)
        if format_spec == "rupiah":
            try:
                return format_rupiah(int(value))
            except (TypeError, ValueError):
                return str(value)
        thousands, decimal = _SEPARATORS.get(self.language, _SEPARATORS["en"])
        if format_spec == "num" and isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}".replace(",", thousands)
        if format_spec == "bp" and isinstance(value, int) and not isinstance(value, bool):
            return f"{value / 100:g}".replace(".", decimal)
        if format_spec == "msg" or format_spec.startswith("msg:"):
            code = format_spec.removeprefix("msg").removeprefix(":") + str(value)
            if not any(code in table for table in MESSAGES.values()):
                return str(value)
            return render(code, self.params, self.language)
        if format_spec in ("num", "bp", "rupiah"):
            return str(value)
        return super().format_field(value, format_spec)


class _Missing:
    def __init__(self, key: str) -> None:
        self.key = key

    def __str__(self) -> str:
        return "{" + self.key + "}"


def template_fields(template: str) -> set[str]:
    """The names of the parameters ``template`` uses (for tests and tools)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def has_message(code: str, language: str) -> bool:
    """True when ``language``'s table has a message for ``code``."""
    return code in MESSAGES.get(language, {})


def render(code: str, params: Mapping[str, Any] | None = None, language: str = "id") -> str:
    """The message of ``code`` in ``language`` with ``params`` filled in."""
    template = _table(language).get(code) or MESSAGES["en"].get(code)
    if template is None:
        return code
    try:
        values = dict(params or {})
        return _Formatter(language, values).vformat(template, (), values)
    except (IndexError, ValueError, AttributeError):
        return template
