"""Errors that carry a stable ``code`` and their parameters, never a finished sentence.

Both sides raise :class:`CodedError` (or a subclass): ``code`` names the message and
``params`` hold its specifics (amounts in rupiah as integers, names, receipt numbers).
The sentence is made only when someone reads it, from the one table of each language in
:mod:`shared.messages`: ``error.text("id")`` for a cashier in Bahasa Indonesia,
``str(error)`` (English) for logs and the API. No sentence is ever parsed back.
"""

from __future__ import annotations

from typing import Any

from shared.messages import Language, render


class CodedError(Exception):
    """An error with a stable ``code`` and its ``params``; ``str()`` is the English message.

    ``message_code`` names the message and is ``code`` itself, unless a subclass keeps a
    broad ``code`` for its callers (the server's ``not_found``, say) and a precise
    message (``category_not_found``).
    """

    code = "error"

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        if code is not None:
            self.code = code
        self.message_code: str = self.code
        self.params: dict[str, Any] = params
        super().__init__(self.code)

    def __str__(self) -> str:
        return render(self.message_code, self.params, "en")

    @property
    def message(self) -> str:
        """The English sentence (what logs and the API's ``message`` carry)."""
        return str(self)

    def text(self, language: Language = "id") -> str:
        """The sentence in ``language`` (Bahasa Indonesia unless told otherwise)."""
        return render(self.message_code, self.params, language)
