"""Lists: filters per operator, sorting, quick search and keyset paging."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from api.conftest import create

NAMES = ["Alpha", "beta", "Ёжик", "Ерёма", "Գառնիկ", "gamma 100%", "delta_x", "Alpha two"]


@pytest.fixture
def customers(client: FlaskClient, shop: dict[str, str]) -> list[dict[str, Any]]:
    made = []
    for i, name in enumerate(NAMES):
        score = None if i == 3 else i % 3
        made.append(
            create(
                client,
                shop,
                "customers",
                name=name,
                code=f"C{i}",
                score=score,
                rank=10 - i,
                balance=f"{i * 10}.25",
            )
        )
    return made


def ids(client: FlaskClient, headers: dict[str, str], query: str) -> list[int]:
    response = client.get(f"/api/v1/records/customers?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def by_name(customers: list[dict[str, Any]], *names: str) -> list[int]:
    return [c["id"] for c in customers if c["name"] in names]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter[name][eq]=beta", ["beta"]),
        ("filter[name]=beta", ["beta"]),
        ("filter[name][contains]=ALPHA", ["Alpha", "Alpha two"]),
        ("filter[name][contains]=ёж", ["Ёжик"]),
        ("filter[name][contains]=ԳԱՌ", ["Գառնիկ"]),
        ("filter[name][contains]=100%25", ["gamma 100%"]),
        ("filter[name][contains]=a_x", ["delta_x"]),
        ("filter[name][startswith]=Alp", ["Alpha", "Alpha two"]),
        ("filter[name][endswith]=two", ["Alpha two"]),
        ("filter[name][in]=beta,Ёжик", ["beta", "Ёжик"]),
        (
            "filter[name][ne]=beta&filter[name][contains]=a",
            ["Alpha", "gamma 100%", "delta_x", "Alpha two"],
        ),
        ("filter[score][isnull]=true", ["Ерёма"]),
        ("filter[score][gte]=2", ["Ёжик", "gamma 100%"]),
        ("filter[score][between]=1,1", ["beta", "Գառնիկ", "Alpha two"]),
        ("filter[balance][lt]=20.25", ["Alpha", "beta"]),
        ("filter[balance][gt]=50.25&filter[rank][lte]=4", ["delta_x", "Alpha two"]),
    ],
)
def test_filters(
    client: FlaskClient,
    shop: dict[str, str],
    customers: list[dict[str, Any]],
    query: str,
    expected: list[str],
) -> None:
    assert sorted(ids(client, shop, query)) == sorted(by_name(customers, *expected))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("filter[nope][eq]=1", "filter[nope][eq]"),
        ("filter[score][contains]=1", "filter[score][contains]"),
        ("filter[score][eq]=abc", "filter[score][eq]"),
        ("filter[score][between]=1", "filter[score][between]"),
        ("filter[balance][eq]=1.2.3", "filter[balance][eq]"),
        ("filter[score][isnull]=maybe", "filter[score][isnull]"),
        ("filter[score][drop]=1", "filter[score][drop]"),
        ("sort=nope", "sort"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("after=garbage!!", "after"),
        ("after=WzEsMiwzXQ", "after"),
        ("color=red", "color"),
    ],
)
def test_bad_list_parameters_name_the_parameter(
    client: FlaskClient,
    shop: dict[str, str],
    customers: list[dict[str, Any]],
    query: str,
    field: str,
) -> None:
    response = client.get(f"/api/v1/records/customers?{query}", headers=shop)
    assert response.status_code in (400, 422), response.json
    assert field in response.json["errors"]


def test_sort_orders_with_nulls_first_on_both_databases(
    client: FlaskClient, shop: dict[str, str], customers: list[dict[str, Any]]
) -> None:
    listed = client.get("/api/v1/records/customers?sort=score,-rank", headers=shop).json["items"]
    scores = [item["score"] for item in listed]
    assert scores[0] is None
    assert scores[1:] == sorted(scores[1:])
    same_score = [item["rank"] for item in listed if item["score"] == 0]
    assert same_score == sorted(same_score, reverse=True)
    desc = client.get("/api/v1/records/customers?sort=-score", headers=shop).json["items"]
    assert desc[-1]["score"] is None


def test_default_order_is_newest_first(
    client: FlaskClient, shop: dict[str, str], customers: list[dict[str, Any]]
) -> None:
    assert ids(client, shop, "") == sorted((c["id"] for c in customers), reverse=True)


@pytest.mark.parametrize("sort", ["", "name", "-name", "score", "-score,name", "balance", "rank"])
def test_keyset_pages_cover_everything_once(
    client: FlaskClient, shop: dict[str, str], customers: list[dict[str, Any]], sort: str
) -> None:
    full = ids(client, shop, f"sort={sort}&limit=100")
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        query = f"sort={sort}&limit=3" + (f"&after={cursor}" if cursor else "")
        page = client.get(f"/api/v1/records/customers?{query}", headers=shop).json
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == full


def test_keyset_paging_is_stable_under_inserts(
    client: FlaskClient, shop: dict[str, str], customers: list[dict[str, Any]]
) -> None:
    first = client.get("/api/v1/records/customers?sort=name&limit=4", headers=shop).json
    create(client, shop, "customers", name="AAA first of all")
    create(client, shop, "customers", name="zzz last of all")
    second = client.get(
        f"/api/v1/records/customers?sort=name&limit=100&after={first['next']}", headers=shop
    ).json
    first_ids = {item["id"] for item in first["items"]}
    second_names = [item["name"] for item in second["items"]]
    assert not first_ids & {item["id"] for item in second["items"]}
    assert "zzz last of all" in second_names
    assert "AAA first of all" not in second_names


def test_quick_search(
    client: FlaskClient, shop: dict[str, str], customers: list[dict[str, Any]]
) -> None:
    assert sorted(ids(client, shop, "q=alpha")) == sorted(by_name(customers, "Alpha", "Alpha two"))
    assert ids(client, shop, "q=ЕРЁМ") == by_name(customers, "Ерёма")
    assert ids(client, shop, "q=C5") == by_name(customers, "gamma 100%")
    assert ids(client, shop, "q=%25") == by_name(customers, "gamma 100%")
    assert ids(client, shop, "q=no such thing") == []


def test_link_titles_come_with_the_page(
    client: FlaskClient, shop: dict[str, str], customers: list[dict[str, Any]]
) -> None:
    create(client, shop, "orders", number="1", customer=customers[2]["id"])
    page = client.get("/api/v1/records/orders", headers=shop).json
    assert page["titles"] == {"customers": {str(customers[2]["id"]): "Ёжик"}}


def test_filter_on_a_link(
    client: FlaskClient, shop: dict[str, str], customers: list[dict[str, Any]]
) -> None:
    order = create(client, shop, "orders", number="1", customer=customers[0]["id"])
    create(client, shop, "orders", number="2", customer=customers[1]["id"])
    response = client.get(
        f"/api/v1/records/orders?filter[customer][eq]={customers[0]['id']}", headers=shop
    )
    assert [item["id"] for item in response.json["items"]] == [order["id"]]
