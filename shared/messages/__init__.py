"""One message table per language, keyed by error code: Bahasa Indonesia first, English.

:func:`render` fills a code's template with its parameters. Templates use
:meth:`str.format` fields with two extra format specs: ``{amount:rupiah}`` writes an
integer amount the Indonesian way ("Rp 12.500"), and ``{state:msg}`` writes the
message of another code (a word that itself differs per language). A code missing from
a language falls back to English, then to the code itself; a missing parameter leaves
its field as written. Every code has both messages (a test checks it).
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


class _Formatter(string.Formatter):
    def __init__(self, language: str) -> None:
        self.language = language

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
        if format_spec == "msg":
            return render(str(value), {}, self.language)
        return super().format_field(value, format_spec)


class _Missing:
    def __init__(self, key: str) -> None:
        self.key = key

    def __str__(self) -> str:
        return "{" + self.key + "}"


def has_message(code: str, language: str) -> bool:
    """True when ``language``'s table has a message for ``code``."""
    return code in MESSAGES.get(language, {})


def render(code: str, params: Mapping[str, Any] | None = None, language: str = "id") -> str:
    """The message of ``code`` in ``language`` with ``params`` filled in."""
    template = _table(language).get(code) or MESSAGES["en"].get(code)
    if template is None:
        return code
    try:
        return _Formatter(language).vformat(template, (), dict(params or {}))
    except (IndexError, ValueError, AttributeError):
        return template
