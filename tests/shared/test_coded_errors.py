"""Every error the server and the shared code raise names a message code with both messages;
none carries a finished sentence (the till's raises: ``tests/ui/test_i18n_errors.py``).

The source is read with ``ast``. The coded classes are every class whose bases lead to
:class:`~shared.errors.CodedError` (the server's ``AppError`` family, ``TripayError``),
plus the server's helpers that make such an error from a code (``backup.py``'s
refusals). A call of any of them must name its message with a code literal
(``NotFound("product_not_found", ...)``), never with a sentence or an f-string, and the
code must be in ``shared/messages/id.py`` and ``en.py``. The CSV import's line
problems, ``("csv_price_negative", {...})``, are checked the same way.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.messages import MESSAGES, render

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("sync_server", "shared")
CODE = re.compile(r"[a-z][a-z0-9_]*")

# Sentences still to be turned into codes, in code this check's author may not change:
# each fails strictly, so the entry goes once its raise names a code.
NOT_YET: set[str] = set()
# Helpers that make a coded error from a code: (name, position of the code argument).
CODE_HELPERS = {"_refused": (0,), "_corrupt": (1,), "_bad_export": (1,)}
CSV_PROBLEMS = ROOT / "sync_server" / "catalog" / "csv_io.py"


def _trees() -> Iterator[tuple[str, ast.Module]]:
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


TREES = list(_trees())


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _coded_classes() -> set[str]:
    """Names of the classes whose bases lead to ``CodedError`` (found by name)."""
    bases: dict[str, set[str]] = {}
    for _, tree in TREES:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = {name for base in node.bases if (name := _base_name(base))}
                bases.setdefault(node.name, set()).update(names)
    coded = {"CodedError"}
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in coded and parents & coded:
                coded.add(name)
                grew = True
    return coded


CLASSES = _coded_classes()
# The Tripay sandbox imitates Tripay itself, whose answers are English sentences.
OUTSIDE = {"SandboxError"}


def _message_arguments() -> Iterator[tuple[str, ast.expr]]:
    """(where, argument) of every argument that names a message."""
    for where, tree in TREES:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _base_name(node.func)
            if name in CLASSES and name not in OUTSIDE and node.args:
                yield f"{where}:{node.lineno}", node.args[0]
            for position in CODE_HELPERS.get(name or "", ()):
                if len(node.args) > position:
                    yield f"{where}:{node.lineno}", node.args[position]


ARGUMENTS = list(_message_arguments())


def _csv_problems() -> Iterator[tuple[str, ast.expr]]:
    """``(code, {...})`` tuples of the CSV import."""
    where = str(CSV_PROBLEMS.relative_to(ROOT))
    for node in ast.walk(ast.parse(CSV_PROBLEMS.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            first, second = node.elts
            if isinstance(second, ast.Dict) and isinstance(first, ast.Constant):
                yield f"{where}:{node.lineno}", first


CSV = list(_csv_problems())


def test_the_scan_finds_the_classes_and_their_raises() -> None:
    # A guard that the walk still sees what it checks (say, after modules move).
    assert {"AppError", "NotFound", "TripayError", "PaymentGatewayError", "PricingError"} <= CLASSES
    codes = {arg.value for _, arg in ARGUMENTS if isinstance(arg, ast.Constant)}
    assert {"tripay_refused", "backup_corrupt", "backup_why_sha256", "login_locked"} <= codes
    assert len(CSV) >= 15


def _is_sentence(argument: ast.expr) -> bool:
    if isinstance(argument, ast.JoinedStr):
        return True
    return isinstance(argument, ast.Constant) and not CODE.fullmatch(str(argument.value))


def _cases() -> list[object]:
    cases: list[object] = []
    for where, argument in ARGUMENTS + CSV:
        marks = []
        if where.split(":")[0] in NOT_YET and _is_sentence(argument):
            marks.append(
                pytest.mark.xfail(reason="a sentence, still to become a code", strict=True)
            )
        cases.append(pytest.param(where, argument, id=where, marks=marks))
    return cases


@pytest.mark.parametrize(("where", "argument"), _cases())
def test_an_error_names_its_message_by_a_code_with_both_languages(
    where: str, argument: ast.expr
) -> None:
    assert not isinstance(argument, ast.JoinedStr), f"{where}: an f-string sentence"
    if not isinstance(argument, ast.Constant):
        return  # a code chosen at run time (a variable), checked where it is chosen
    code = argument.value
    assert isinstance(code, str) and CODE.fullmatch(code), f"{where}: {code!r} is no code"
    assert code in MESSAGES["id"], f"{where}: no Bahasa Indonesia message for {code!r}"
    assert code in MESSAGES["en"], f"{where}: no English message for {code!r}"


def test_a_reason_inside_a_message_is_rendered_in_the_same_language() -> None:
    params = {"backup": "kasir.sqlite3", "why": "backup_why_size", "size": 7, "expected_size": 9}
    assert render("backup_corrupt", params, "en") == (
        "The backup kasir.sqlite3 is damaged or incomplete (7 bytes, the manifest says 9); "
        "nothing was restored."
    )
    assert render("backup_corrupt", params, "id") == (
        "Cadangan kasir.sqlite3 rusak atau tidak lengkap (7 bita, menurut manifes 9); "
        "tidak ada yang dipulihkan."
    )
    # A reason that is no code (a database's own words) is written as it is.
    params["why"] = "file is not a database"
    assert "(file is not a database)" in render("backup_corrupt", params, "id")
