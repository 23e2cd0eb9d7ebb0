"""Keyset paging both ways: "previous" is a before-cursor, read by walking the sort's
index backwards, and gives back exactly the pages "next" gave, for every sort (NULLs
included) and with a filter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recordbase.runtime import Runtime

from .conftest import Browser


@pytest.fixture
def people(crm: Flask) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    for i in range(23):
        # positions repeat and some are missing: ties and NULLs at both ends of the order
        rt.records.create("contacts", {"client": 1 + i % 2, "full_name": f"Person {i:02d}",
                                       "position": None if i % 4 == 0 else f"P{i % 3}"})


def ids(page: dict[str, Any]) -> list[int]:
    return [item["id"] for item in page["items"]]


def get(client: FlaskClient, admin: dict[str, str], query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/records/contacts?{query}", headers=admin)
    assert response.status_code == 200, response.get_json()
    page: dict[str, Any] = response.get_json()
    return page


@pytest.mark.parametrize(
    "query",
    ["sort=id", "sort=-id", "sort=position", "sort=-position", "sort=position,-full_name",
     "sort=-position&filter[client][eq]=1", "q=Person"],
)
def test_previous_pages_are_the_pages_next_gave(
    people: None, client: FlaskClient, admin: dict[str, str], query: str
) -> None:
    forward = [get(client, admin, f"{query}&limit=5")]
    assert forward[0]["previous"] is None
    while forward[-1]["next"]:
        forward.append(get(client, admin, f"{query}&limit=5&after={forward[-1]['next']}"))
    assert len(forward) >= 3
    everything = [i for page in forward for i in ids(page)]
    assert len(everything) == len(set(everything))
    backward = [forward[-1]]
    while backward[-1]["previous"]:
        backward.append(
            get(client, admin, f"{query}&limit=5&before={backward[-1]['previous']}")
        )
    assert [ids(p) for p in backward] == [ids(p) for p in reversed(forward)]
    # a page reached backwards pages forwards again
    assert backward[-2]["next"] == forward[1]["next"]


def test_before_and_after_together_is_a_sentence(
    people: None, client: FlaskClient, admin: dict[str, str]
) -> None:
    first = get(client, admin, "limit=5&sort=id")
    response = client.get(
        f"/api/v1/records/contacts?limit=5&after={first['next']}&before={first['next']}",
        headers=admin,
    )
    assert response.status_code == 422
    assert "not both" in response.get_json()["detail"]
    bad = client.get("/api/v1/records/contacts?before=abc", headers=admin)
    assert bad.status_code == 422


def test_the_list_pages_back_with_a_before_link(
    crm: Flask, people: None, admin_web: Browser
) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    for i in range(25):  # three pages of 25
        rt.records.create("contacts", {"client": 1, "full_name": f"Later {i:02d}"})
    def rows(html: str) -> list[str]:
        return re.findall(r'href="/r/contacts/(\d+)"', html)

    def link(html: str, rel: str) -> str | None:
        found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
        return found.group(1).replace("&amp;", "&") if found else None

    pages = [admin_web.get("/r/contacts/?limit=25&sort=full_name").get_data(as_text=True)]
    assert link(pages[0], "prev") is None
    assert "Page 1" in pages[0]
    while (url := link(pages[-1], "next")) is not None:
        pages.append(admin_web.get(url).get_data(as_text=True))
    assert len(pages) >= 2
    assert f"Page {len(pages)}" in pages[-1]
    back = link(pages[-1], "prev")
    assert back is not None
    assert len(pages) >= 3
    assert "before=" in back
    again = admin_web.get(back).get_data(as_text=True)
    assert rows(again) == rows(pages[-2])
    assert f"Page {len(pages) - 1}" in again
