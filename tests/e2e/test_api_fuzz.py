"""Schemathesis over the live OpenAPI: no input makes the real server answer 5xx, and every
answer matches the schema the server publishes.

The server runs under uvicorn with the demo store (SQLite, then MariaDB). Each operation
is called with generated input (seeded, a bounded number of examples) as the callers it
is meant for: terminal routes with an enrolled till's device token and the protocol
header, the others as an admin, a manager and a cashier.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error, response_schema_conformance

from pos_client.sync.client import enroll
from shared.models import PROTOCOL_HEADER
from tests.e2e.conftest import LiveServer

SKIPPED = {
    ("POST", "/api/v1/auth/logout"): "signs out the token the rest of the run uses",
    ("POST", "/api/v1/terminals/{terminal_id}/revoke"): "revokes the till the run uses",
    ("GET", "/api/v1/payment/get-payment-channel"): "calls Tripay (tests/e2e/test_qris_e2e.py)",
    ("POST", "/api/v1/payment/create-transaction"): "calls Tripay (tests/e2e/test_qris_e2e.py)",
    ("POST", "/api/v1/payment/create-payment"): "calls Tripay (tests/e2e/test_qris_e2e.py)",
}
"""Operations left out, each with its reason."""

EXAMPLES = {"terminal": 20, "admin": 12, "manager": 8, "cashier": 4}
"""Generated calls per operation and caller: bounded so the run takes a few minutes."""

CASHIER_PASSWORD = "siti-fuzz-123"


def _tokens(server: LiveServer) -> dict[str, str]:
    manager = server.manager_token()
    siti = httpx.patch(
        f"{server.base_url}/api/v1/users/{server.user_id('siti')}",
        json={"password": CASHIER_PASSWORD},
        headers={"Authorization": f"Bearer {manager}"},
        timeout=10,
    )
    siti.raise_for_status()
    with httpx.Client(timeout=10) as http:
        till = enroll(http, server.base_url, server.enrollment_code("T09"), "fuzz till")
    return {
        "terminal": till.device_token,
        "admin": server.token_for("admin", "admin12345"),
        "manager": manager,
        "cashier": server.token_for("siti", CASHIER_PASSWORD),
    }


def _is_terminal_route(operation: Any) -> bool:
    parameters = operation.definition.raw.get("parameters", [])
    return any(p.get("in") == "header" and p.get("name") == PROTOCOL_HEADER for p in parameters)


def test_no_input_makes_the_server_fail_or_break_its_schema(live_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.base_url}/openapi.json")
    tokens = _tokens(live_server)
    session = requests.Session()
    failures: list[str] = []
    calls = 0
    statuses: Counter[int] = Counter()

    def run(operation: Any, caller: str) -> None:
        nonlocal calls
        headers = {"Authorization": f"Bearer {tokens[caller]}"}

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES[caller],
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=live_server.base_url, session=session, headers=headers)
            statuses[response.status_code] += 1
            try:
                case.validate_response(
                    response,
                    checks=[not_a_server_error, response_schema_conformance],
                    headers=headers,
                )
            except Exception as exc:  # every kind of check failure is reported, not raised
                failures.append(
                    f"{case.method} {case.formatted_path} as {caller}: {exc}\n"
                    f"  {case.as_curl_command(headers=headers)[:600]}"
                )

        check()

    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIPPED:
            continue
        callers = ["terminal"] if _is_terminal_route(operation) else ["admin", "manager", "cashier"]
        for caller in callers:
            run(operation, caller)

    print(f"{calls} calls, answers by status: {sorted(statuses.items())}")
    assert calls > 500
    assert sum(n for status, n in statuses.items() if status < 300) > 100
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
