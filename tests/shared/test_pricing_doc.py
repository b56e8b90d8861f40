"""docs/pricing.md cannot drift from shared/pricing.py: every worked example runs here.

Each fenced ```json pricing-example block of the page is one call (``call``, ``args``)
and what it must return (``expect``). The comparison is exact, and a guard below proves
it: changing any number in any ``expect`` makes that example fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pos_client.domain.catalog import Voucher
from pos_client.domain.vouchers import voucher_amount
from shared.models import VoucherKind
from shared.pricing import (
    LineInput,
    PricingError,
    SaleTotals,
    allocate,
    percent_of,
    price_sale,
    refund_amount,
    round_half_up,
    tax_in_net,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"
BLOCK = re.compile(r"^```json pricing-example\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples(text: str) -> list[dict[str, Any]]:
    """The worked examples of ``text`` (the page), in order."""
    return [json.loads(body) for body in BLOCK.findall(text)]


EXAMPLES = examples(DOC.read_text(encoding="utf-8"))


def _sale(totals: SaleTotals) -> dict[str, Any]:
    return {
        "lines": [
            {
                "gross": line.gross,
                "discount": line.discount,
                "order_discount": line.order_discount,
                "net": line.net,
                "tax": line.tax,
                "total": line.total,
            }
            for line in totals.lines
        ],
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "tax_total": totals.tax_total,
        "total": totals.total,
    }


def _lines(args: dict[str, Any]) -> list[LineInput]:
    return [LineInput(**line) for line in args["lines"]]


def _refund_steps(line_total: int, sold_quantity: int, steps: list[int]) -> list[int | str]:
    """Refund ``steps`` units one refund after another; a refusal shows as its code."""
    got: list[int | str] = []
    before = 0
    for quantity in steps:
        try:
            got.append(
                refund_amount(
                    line_total=line_total,
                    sold_quantity=sold_quantity,
                    refunded_before=before,
                    quantity=quantity,
                )
            )
        except PricingError as exc:
            got.append(exc.code)
            continue
        before += quantity
    return got


def _voucher_sale(args: dict[str, Any]) -> dict[str, Any]:
    """The till's rule: the voucher is taken on the spend after the manual discount."""
    lines = _lines(args)
    manual = args["manual_order_discount"]
    spend = sum(line.unit_price * line.quantity - line.discount for line in lines) - manual
    spec = args["voucher"]
    voucher = Voucher(code=spec["code"], kind=VoucherKind(spec["kind"]), value=spec["value"])
    off = voucher_amount(voucher, spend)
    return {
        "voucher_discount": off,
        "order_discount": manual + off,
        "sale": _sale(price_sale(lines, manual + off)),
    }


def run(example: dict[str, Any]) -> Any:
    """What the code answers for one example's call."""
    call, args = example["call"], example["args"]
    if call == "round_half_up":
        return [round_half_up(n, d) for n, d in args["cases"]]
    if call == "percent_of":
        return [percent_of(amount, bp) for amount, bp in args["cases"]]
    if call == "tax_in_net":
        return [tax_in_net(net, rate, inclusive=inc) for net, rate, inc in args["cases"]]
    if call == "allocate":
        return allocate(args["amount"], args["weights"])
    if call == "price_sale":
        return _sale(price_sale(_lines(args), args["order_discount"]))
    if call == "voucher_sale":
        return _voucher_sale(args)
    if call == "refund_steps":
        return _refund_steps(args["line_total"], args["sold_quantity"], args["steps"])
    raise AssertionError(f"unknown call {call!r} in docs/pricing.md")


def test_the_page_has_an_example_of_every_rule() -> None:
    calls = {example["call"] for example in EXAMPLES}
    assert calls == {
        "round_half_up",
        "percent_of",
        "tax_in_net",
        "allocate",
        "price_sale",
        "voucher_sale",
        "refund_steps",
    }
    assert len(EXAMPLES) >= 11
    # no example hides in a block the parser does not see
    assert DOC.read_text(encoding="utf-8").count("```json") == len(EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_each_worked_example_is_what_the_code_computes(example: dict[str, Any]) -> None:
    assert run(example) == example["expect"]


def _number_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _number_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _number_paths(item, (*path, index))


def _bumped(example: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(example)
    holder: Any = changed["expect"]
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] += 1
    return changed


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_changing_any_expected_number_is_caught(example: dict[str, Any]) -> None:
    paths = list(_number_paths(example["expect"]))
    assert paths, "an example must expect numbers"
    for path in paths:
        changed = _bumped(example, path)
        assert run(changed) != changed["expect"], f"{example['name']}: {path} not checked"


def test_a_changed_number_in_the_page_fails() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert '"total": 90975' in text
    edited = examples(text.replace('"total": 90975', '"total": 90976', 1))
    assert any(run(example) != example["expect"] for example in edited)
