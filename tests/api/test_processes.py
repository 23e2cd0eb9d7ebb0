"""Several processes (here: several runtimes) on one database, and concurrent writers."""

from __future__ import annotations

import threading

from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime, make_runtime


def test_another_process_sees_a_new_field_on_its_next_request(
    runtime: Runtime, db_url: str
) -> None:
    runtime.schema.create_entity({"name": "clients", "fields": [{"name": "name", "type": "text"}]})
    other = make_runtime(db_url, hash_profile="cheapest")
    try:
        assert other.records.list_page("clients", ListQuery()).items == []
        runtime.schema.add_field("clients", {"name": "city", "type": "text"})
        made = other.records.create("clients", {"name": "A", "city": "Ереван"})
        assert made["city"] == "Ереван"
    finally:
        other.dispose()


def test_concurrent_writers_all_succeed(runtime: Runtime) -> None:
    runtime.schema.create_entity(
        {
            "name": "notes",
            "fields": [{"name": "text", "type": "text"}, {"name": "n", "type": "integer"}],
        }
    )
    errors: list[BaseException] = []
    per_thread, threads = 25, 6

    def work(k: int) -> None:
        try:
            for i in range(per_thread):
                made = runtime.records.create("notes", {"text": f"t{k}", "n": i})
                runtime.records.update(
                    "notes", made["id"], {"n": i + 1}, expected_version=made["version"]
                )
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors[0]
    page = runtime.records.list_page("notes", ListQuery(limit=500))
    assert len(page.items) == per_thread * threads
    assert all(item["version"] == 2 for item in page.items)
