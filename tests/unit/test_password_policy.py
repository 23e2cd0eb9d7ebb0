"""The password policy (OWASP ASVS 4.0.3 V2.1): length, no composition rules, no
common or breached passwords; generated one-time passwords pass it."""

from __future__ import annotations

import pytest

from recordbase.errors import ValidationError
from recordbase.users import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password_rules,
    generate_password,
)


def test_the_limits_are_those_of_asvs_level_2() -> None:
    assert MIN_PASSWORD_LENGTH == 12
    assert MAX_PASSWORD_LENGTH >= 64


@pytest.mark.parametrize(
    "password",
    [
        "mauve kettle drifts",  # words and spaces, no digit or capital: no composition rules
        "ՄԵԾԱՏԱՌ գաղտնաբառ ԲԱՌԵՐ",  # any Unicode
        "the quiet otter files each invoice before lunch on rainy fridays",  # 64
        "v8#Lq!m2@Rt7" + "x" * (MAX_PASSWORD_LENGTH - 12),  # the longest allowed
    ],
)
def test_good_passwords_pass(password: str) -> None:
    check_password_rules(password, login="mara")


@pytest.mark.parametrize(
    ("password", "sentence"),
    [
        ("k7#q v9!m2z", "at least 12 characters"),  # 11
        ("k7#q      v9!m2", "at least 12 characters"),  # runs of spaces count as one
        ("x" * (MAX_PASSWORD_LENGTH + 1), f"longer than {MAX_PASSWORD_LENGTH}"),
        ("password1234", "too common"),  # on the breached list
        ("PASSWORD1234", "too common"),  # in capitals too
        ("iloveyou1234", "too common"),  # a listed word with a few digits
        ("qwertyuiopasdf", "too common"),  # a keyboard walk
        ("aaaaaaaaaaaaaaaa", "too common"),  # a repeat
        ("mara.petrosyan1", "too common"),  # the login with a digit
    ],
)
def test_bad_passwords_are_refused_with_a_sentence(password: str, sentence: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_password_rules(password, login="mara.petrosyan")
    assert sentence in caught.value.message
    assert "password" in caught.value.fields


def test_the_login_itself_is_refused() -> None:
    with pytest.raises(ValidationError, match="must not be the login"):
        check_password_rules("Mara.Petrosyan", login="mara.petrosyan")


def test_generated_passwords_pass_the_policy() -> None:
    for _ in range(50):
        password = generate_password()
        assert len(password) >= MIN_PASSWORD_LENGTH
        check_password_rules(password, login="anyone")
