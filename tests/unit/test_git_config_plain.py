"""Which forwarded git configs may be kept in a cached image: identity and preferences only."""

from __future__ import annotations

import pytest

from containers_tool.provision.credentials import _gitconfig, plain_git_config


@pytest.mark.parametrize(
    "items",
    [
        [(("user", None), [("name", "A B"), ("email", "a@b.example")])],
        [(("alias", None), [("st", "status")]), (("init", None), [("defaultBranch", "main")])],
        [(("branch", "main"), [("remote", "origin")]), (("core", None), [("autocrlf", "input")])],
    ],
)
def test_identity_and_preferences_are_plain(items: list) -> None:  # type: ignore[type-arg]
    assert plain_git_config(_gitconfig(items))


@pytest.mark.parametrize(
    "items",
    [
        # A rewrite may carry a user part or a token; so may any URL.
        [(("url", "https://x:tok@git.example/"), [("insteadOf", "https://git.example/")])],
        [(("user", None), [("name", "A")]), (("remote", "origin"), [("url", "https://h/r")])],
        [(("http", None), [("sslVerify", "false")])],
        [(("credential", None), [("helper", "store")])],
        [(("alias", None), [("pub", "!git push https://u:p@h/r")])],
        [(("sendemail", None), [("smtpPass", "secret")])],
    ],
)
def test_anything_that_may_hold_a_credential_is_not(items: list) -> None:  # type: ignore[type-arg]
    assert not plain_git_config(_gitconfig(items))


def test_a_section_name_is_read_whatever_follows_it() -> None:
    assert not plain_git_config('[url"https://h/"]\n\tinsteadOf = x\n')
    assert not plain_git_config("[http.https://h/]\n\tx = y\n")
    assert plain_git_config("[user]\n\tname = n\n")
