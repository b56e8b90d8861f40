"""The till's customers cache: pages of changes with their cursor, customers made here
giving way to the server's by phone, and redemptions counted until a pulled balance
includes them."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from pos_client.store import LocalStore
from pos_client.store.customers import CustomersStore, CustomerTaken
from shared.ids import new_id
from shared.models.customers import CustomerChangesOut, CustomerOut, LoyaltySettings

AT = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)
RULE = LoyaltySettings(enabled=True, earn_points=1, earn_per_rupiah=10_000, point_value=100)


def server_customer(
    phone: str, points: int, *, cid: UUID | None = None, name: str = "Sari"
) -> CustomerOut:
    return CustomerOut(id=cid or new_id(), name=name, phone=phone, points=points, created_at=AT)


def page(*customers: CustomerOut, cursor: int = 5, has_more: bool = False) -> CustomerChangesOut:
    return CustomerChangesOut(
        cursor=cursor, has_more=has_more, customers=list(customers), loyalty=RULE
    )


@pytest.fixture
def customers(store: LocalStore) -> CustomersStore:
    return CustomersStore(store)


def test_a_page_is_stored_with_its_cursor_and_rule(customers: CustomersStore) -> None:
    assert customers.cursor() == 0
    assert customers.loyalty().enabled is False
    sari = server_customer("+6281234567890", 40)
    customers.apply_changes(page(sari, cursor=12))
    assert customers.cursor() == 12
    assert customers.loyalty() == RULE
    found = customers.by_phone("+6281234567890")
    assert found is not None and found.points == 40 and found.synced
    customers.apply_changes(page(server_customer("+6281234567890", 35, cid=sari.id), cursor=13))
    assert customers.by_phone("+6281234567890").points == 35  # type: ignore[union-attr]


def test_a_customer_made_here_gives_way_to_the_servers_by_phone(customers: CustomersStore) -> None:
    mine = customers.add_local(new_id(), "+6281234567890", "Sari", None)
    assert not mine.synced and mine.points == 0
    with pytest.raises(CustomerTaken):
        customers.add_local(new_id(), "+6281234567890", "Orang Lain", None)
    theirs = server_customer("+6281234567890", 7, name="Ibu Sari")
    customers.apply_changes(page(theirs))
    assert customers.get(mine.id) is None
    kept = customers.by_phone("+6281234567890")
    assert kept is not None and kept.id == theirs.id and kept.points == 7


def test_redemptions_count_until_a_pull_after_the_ack(
    store: LocalStore, customers: CustomersStore
) -> None:
    customers.apply_changes(page(server_customer("+6281234567890", 10)))
    sale_id = new_id()
    customers.note_redeem(sale_id, "+6281234567890", 6, AT)
    customers.note_redeem(sale_id, "+6281234567890", 6, AT)  # once per sale
    assert customers.available("+6281234567890") == 4
    # Not acknowledged yet when the next page is asked for: still counted.
    customers.apply_changes(page(cursor=6), settled=set())
    assert customers.available("+6281234567890") == 4
    # Acknowledged before the ask: the page's balance includes it.
    customers.apply_changes(
        page(server_customer("+6281234567890", 4, cid=customers.by_phone("+6281234567890").id)),  # type: ignore[union-attr]
        settled={str(sale_id)},
    )
    assert customers.redeemed_here("+6281234567890") == 0
    assert customers.available("+6281234567890") == 4


def test_never_below_zero_and_unknown_is_zero(customers: CustomersStore) -> None:
    customers.apply_changes(page(server_customer("+6281234567890", -5)))
    assert customers.available("+6281234567890") == 0
    assert customers.available("+6289999999999") == 0


def test_redemptions_are_found_again_in_the_outbox(
    store: LocalStore, customers: CustomersStore
) -> None:
    sale_id = str(new_id())
    with store._write():
        store._insert_outbox(
            str(new_id()),
            "sale",
            AT,
            {"id": sale_id, "customer": {"phone": "+6281234567890", "points_redeemed": 3}},
        )
    assert customers.sales_in_outbox() == {sale_id}
    customers.count_outbox_redeems()
    customers.count_outbox_redeems()
    assert customers.redeemed_here("+6281234567890") == 3


def test_search_by_name_or_digits(customers: CustomersStore) -> None:
    customers.apply_changes(
        page(
            server_customer("+6281234567890", 1, name="Sari"),
            server_customer("+6285711112222", 2, name="Budi"),
        )
    )
    assert [c.name for c in customers.search("sar")] == ["Sari"]
    assert [c.name for c in customers.search("0857 1111")] == ["Budi"]
    assert customers.search("zz") == []


def test_a_round_with_nothing_new_writes_nothing(
    store: LocalStore, customers: CustomersStore
) -> None:
    customers.apply_changes(page(server_customer("+6281234567890", 10), cursor=8))
    before = store.conn.total_changes
    customers.count_outbox_redeems()
    customers.apply_changes(page(cursor=8))
    assert store.conn.total_changes == before
    customers.apply_changes(page(cursor=9))
    assert customers.cursor() == 9
