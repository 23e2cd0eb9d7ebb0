"""Sentences services raise are shown in the reader's language; the API keeps English."""

from __future__ import annotations

import re

from flask import Flask

from recordbase.runtime import Runtime

from .conftest import Browser, card_form


def _speak(web: Browser, language: str) -> None:
    web.post("/language", {"language": language, "next": "/"})


def _error_next_to(page: str, field: str) -> str:
    found = re.search(rf'id="f-{field}-error"[^>]*>([^<]*)<', page)
    assert found is not None, page[:3000]
    return found.group(1).strip()


def _new_card(web: Browser, entity: str, language: str) -> dict[str, str]:
    _speak(web, language)
    return card_form(web.get(f"/r/{entity}/new").get_data(as_text=True))


REQUIRED = {
    "ru": ("Запись «Client» не сохранена: name: Нужно заполнить.", "Нужно заполнить."),
    "hy": ("«Client» գրառումը չպահպանվեց․ name՝ Պարտադիր է լրացնել։", "Պարտադիր է լրացնել։"),
}


def test_a_required_field_left_empty(admin_web: Browser) -> None:
    for language, (sentence, next_to_field) in REQUIRED.items():
        fields = _new_card(admin_web, "clients", language)
        response = admin_web.post("/r/clients/new", {**fields, "name": "", "kind": "legal"})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert sentence in page
        assert _error_next_to(page, "name") == next_to_field
        assert "A value is required" not in page


DUPLICATE = {
    "ru": ("Такое значение поля «SKU» уже есть у другой записи «Product».",
           "Это значение уже занято."),
    "hy": ("«SKU» դաշտի այս արժեքն արդեն ունի մեկ այլ «Product» գրառում։",
           "Այս արժեքն արդեն զբաղված է։"),
}


def test_a_duplicate_unique_value(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    rt.records.create("products", {"name": "First", "kind": "good", "sku": "SKU-1"})
    for language, (sentence, next_to_field) in DUPLICATE.items():
        fields = _new_card(admin_web, "products", language)
        response = admin_web.post(
            "/r/products/new", {**fields, "name": "Second", "kind": "good", "sku": "SKU-1"}
        )
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert sentence in page
        assert _error_next_to(page, "sku") == next_to_field


STALE = {
    "ru": ["Эту запись «Client» изменил(а) ", " в ", "ничего не сохранено"],
    "hy": ["Այս «Client» գրառումը փոխել է ", "-ին՝", "ոչինչ չպահպանվեց"],
}


def test_a_stale_edit_names_who_and_when(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    for language, words in STALE.items():
        _speak(admin_web, language)
        fields = card_form(admin_web.get("/r/clients/1").get_data(as_text=True))
        rt.records.update("clients", 1, {"notes": f"changed elsewhere ({language})"},
                          expected_version=int(fields["version"]))
        response = admin_web.post(
            "/r/clients/1", {**fields, "name": "My new name", "kind": "legal"}
        )
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        conflict = re.search(r'id="conflict".*?</', page, re.S)
        assert conflict is not None
        for word in words:
            assert word in conflict.group(0), conflict.group(0)
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", conflict.group(0))
        assert "after you opened it" not in page


def test_a_wrong_decimal_is_explained_next_to_the_field(admin_web: Browser) -> None:
    shown = {"ru": "Это не число.", "hy": "Սա թիվ չէ։", "en": "Not a valid number."}
    for language, text in shown.items():
        fields = _new_card(admin_web, "products", language)
        response = admin_web.post(
            "/r/products/new", {**fields, "name": "Priced", "kind": "good", "price": "lots"}
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert _error_next_to(page, "price") == text
        assert 'value="lots"' in page


def test_the_api_keeps_english_sentences(crm: Flask, admin_web: Browser) -> None:
    from conftest import ADMIN_PASSWORD

    _speak(admin_web, "ru")  # the web's language cookie is on this client
    client = admin_web.client
    token = client.post(
        "/api/v1/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).get_json()
    headers = {"Authorization": f"Bearer {token['token']}", "Accept-Language": "ru"}
    response = client.post("/api/v1/records/clients", json={"kind": "legal"}, headers=headers)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["detail"] == "The Client was not saved: name: A value is required."
    assert problem["errors"] == {"name": "A value is required."}


DEPENDENT = {
    "ru": ("clients показывает записи по этому полю",
           "шаблон печати clients/card использует clients.name (строка 2)"),
    "hy": ("clients-ը գրառումները ցույց է տալիս այս դաշտով",
           "clients/card տպման ձևանմուշը օգտագործում է clients.name-ը (2-րդ տող)"),
}
SHRINK = {
    "ru": ("значения поля «name» не поместятся в новое описание. Ничего не изменено",
           "Длиннее предельной длины 3."),
    "hy": ("«name» դաշտի արժեքները չեն տեղավորվի նոր նկարագրության մեջ։ Ոչինչ չփոխվեց",
           "Ավելի երկար է, քան թույլատրելի 3 երկարությունը։"),
}


def test_shrinking_a_text_below_its_values_is_refused_in_the_language(
    crm: Flask, admin_web: Browser
) -> None:
    form = {"name": "name", "label": "Name", "type": "text", "options": '{"max_length": 3}'}
    for language, (sentence, sample) in SHRINK.items():
        _speak(admin_web, language)
        preview = admin_web.post("/structure/clients/fields/name", form)
        assert preview.status_code == 200
        shown = preview.get_data(as_text=True)
        assert f"— {sample}</li>" in shown  # the dry run's samples
        for dependent in DEPENDENT[language]:  # what depends on the field
            assert dependent in shown
        refused = admin_web.post("/structure/clients/fields/name", {**form, "confirm": "true"})
        assert refused.status_code == 409
        page = refused.get_data(as_text=True)
        assert sentence in page
        assert f"— {sample}</p>" in page
    rt: Runtime = crm.extensions["recordbase"]
    assert rt.cache.current().entity("clients").field("name").options["max_length"] == 255


RENAME = {
    "ru": "У сущности «clients» уже есть поле «kpp».",
    "hy": "«clients» էությունն արդեն ունի «kpp» անունով դաշտ։",
}


def test_a_rename_to_an_existing_name_is_refused_in_the_language(admin_web: Browser) -> None:
    form = {"name": "kpp", "label": "INN / TIN", "type": "text", "options": '{"max_length": 12}',
            "confirm": "true"}
    for language, sentence in RENAME.items():
        _speak(admin_web, language)
        response = admin_web.post("/structure/clients/fields/inn", form)
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert sentence in page
        assert "already has a field" not in page


TIER = {
    "ru": "Уровень free допускает одного активного пользователя, а уже активны: 2; отключите",
    "hy": "free մակարդակը թույլ է տալիս 1 ակտիվ օգտատեր, իսկ արդեն ակտիվ են 2-ը",
}


def test_a_licence_refusal_is_in_the_language(crm: Flask, admin_web: Browser) -> None:
    rt: Runtime = crm.extensions["recordbase"]
    rt.licence.end_demo()  # the free tier: one active user; admin and user exist already
    for language, sentence in TIER.items():
        _speak(admin_web, language)
        refused = admin_web.post("/admin/users", {"login": "extra"})
        assert refused.status_code == 403
        page = refused.get_data(as_text=True)
        assert sentence in page
        assert "tier allows" not in page
    assert all(u["login"] != "extra" for u in rt.users.list_users())
