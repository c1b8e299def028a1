"""Purposes as data, the cache key, credential selection and redaction (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

import containers_tool
from containers_tool.errors import InvalidInputError
from containers_tool.provision import credentials as cred
from containers_tool.provision.images import cache_key, dockerfile
from containers_tool.provision.plan import env_file, resolve_path
from containers_tool.provision.purposes import BUILTIN_DIR, Purpose, PurposeRegistry, load_file
from containers_tool.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILTINS = ["amplifier", "clean", "general", "go", "node", "python", "rust", "try-repo"]


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_purpose_validates(name):
    purpose = load_file(BUILTIN_DIR / f"{name}.yaml")
    assert purpose.name == name
    assert purpose.probe
    assert purpose.description


def test_clean_forwards_nothing_and_try_repo_needs_repo_url():
    clean = load_file(BUILTIN_DIR / "clean.yaml")
    assert clean.forward.env == "none"
    forwarded = [clean.forward.git, clean.forward.gh, clean.forward.ssh, clean.forward.dotfiles]
    assert forwarded == [False, False, False, False]
    assert load_file(BUILTIN_DIR / "try-repo.yaml").requires == ["repo_url"]


def test_unknown_field_in_a_purpose_file_is_refused(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "name: x\ndescription: d\nimage: i\nprobe: 'true'\ncolour: red\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInputError):
        load_file(tmp_path / "x.yaml")


def test_unknown_purpose_lists_known_ones():
    with pytest.raises(InvalidInputError) as info:
        PurposeRegistry(Settings()).get("cobol")
    assert info.value.field == "purpose"
    assert "python" in info.value.hint


def test_user_purpose_shadows_builtin_and_images_resolve_by_precedence(tmp_path, monkeypatch):
    (tmp_path / "python.yaml").write_text(
        "name: python\ndescription: mine\nimage: python:3.13\nprobe: 'true'\n", encoding="utf-8"
    )
    registry = PurposeRegistry(Settings(purposes_dir=str(tmp_path), image_prefix="mirror.io/hub"))
    assert registry.get("python").description == "mine"
    assert registry.get("python").image == "mirror.io/hub/python:3.13"
    monkeypatch.setenv("CONTAINERS_TOOL_PURPOSE_IMAGES__python", "localhost/base/debian:12")
    assert PurposeRegistry(Settings(purposes_dir=str(tmp_path))).get("python").image == (
        "localhost/base/debian:12"
    )
    explicit = Settings(purposes_dir=str(tmp_path), purpose_images={"python": "arg/img:1"})
    assert PurposeRegistry(explicit).get("python").image == "arg/img:1"


def _purpose(**extra: object) -> Purpose:
    data: dict[str, object] = {"name": "p", "description": "d", "image": "base:1", "probe": "true"}
    return Purpose.model_validate(data | extra)


def test_cache_key_changes_with_any_line_and_the_base_id():
    base = cache_key(_purpose(setup=["echo a"]), "sha256:1", None)
    assert base == cache_key(_purpose(setup=["echo a"]), "sha256:1", None)
    assert base != cache_key(_purpose(setup=["echo b"]), "sha256:1", None)
    assert base != cache_key(_purpose(setup=["echo a"]), "sha256:2", None)
    assert base != cache_key(_purpose(setup=["echo a"], packages=["git"]), "sha256:1", None)
    assert base != cache_key(_purpose(setup=["echo a"]), "sha256:1", "ca-digest")
    # The description is prose, not build input.
    assert base == cache_key(_purpose(setup=["echo a"], description="x"), "sha256:1", None)


def test_dockerfile_holds_the_purpose_only():
    text = dockerfile(_purpose(packages=["git"], setup=["echo a"], env={"A": "b c"}), True)
    assert text.startswith("FROM base:1\n")
    assert "RUN echo a" in text
    assert 'ENV A="b c"' in text
    assert "ARG SSL_CERT_FILE=" in text  # the CA is build-time only, not image env
    assert "ENV SSL_CERT_FILE" not in text
    # The workdir is made at build, last, so setup steps keep their own cwd.
    assert text.endswith('WORKDIR "/workspace"\n')


def test_auto_passthrough_takes_keys_and_tokens_not_passwords():
    env = {
        "OPENAI_API_KEY": "1",
        "GH_TOKEN": "2",
        "ANTHROPIC_BASE_URL": "3",
        "DB_PASSWORD": "4",
        "HOME": "/root",
        "EDITOR": "vi",
        "AWS_SECRET_ACCESS_KEY": "5",
        "MY_API_TOKEN": "6",
    }
    chosen = cred.select_env("auto", env)
    assert set(chosen) == {
        "OPENAI_API_KEY",
        "GH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "AWS_SECRET_ACCESS_KEY",
        "MY_API_TOKEN",
    }
    assert cred.select_env("none", env) == {}
    assert "HOME" not in cred.select_env("all", env)
    assert "EDITOR" in cred.select_env("all", env)
    assert cred.select_env(["EDITOR", "MISSING"], env) == {"EDITOR": "vi"}


def test_redaction_and_env_file_quoting():
    assert cred.redact("token=abcd1234 done", ["abcd1234"]) == "token=[redacted] done"
    assert env_file({"K": "it's $HOME `x`"}) == "export K='it'\"'\"'s $HOME `x`'\n"


def test_paths_resolve_against_home_and_workdir():
    assert resolve_path("~/.config/a", "/home/ct", "/workspace") == "/home/ct/.config/a"
    assert resolve_path("src/a.py", "/home/ct", "/workspace") == "/workspace/src/a.py"
    assert resolve_path("/etc/x", "/home/ct", "/workspace") == "/etc/x"


def test_git_config_rendering_quotes_values():
    text = cred._gitconfig([(("user", None), [("name", 'A "B"')]), (("url", "x"), [("a", "b")])])
    assert '[user]\n\tname = "A \\"B\\""' in text
    assert '[url "x"]' in text


def test_extra_ca_detection_follows_env(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x", encoding="utf-8")
    assert cred.extra_ca_bundle({"SSL_CERT_FILE": str(bundle)}) == Path(bundle)


def test_env_selection_forwards_only_shell_names_and_never_host_ca_paths():
    env = {
        "BASH_FUNC_myfn%%": "() {  echo hi\n}",
        "SSL_CERT_FILE": "/etc/host.pem",
        "REQUESTS_CA_BUNDLE": "/etc/host.pem",
        "PIP_CERT": "/etc/host.pem",
        "SSL_CERT_DIR": "/etc/ssl/certs",
        "NODE_EXTRA_CA_CERTS": "/etc/host.pem",
        "EDITOR": "vi",
        "BAD-NAME_TOKEN": "t",
    }
    chosen, skipped = cred.choose_env("all", env)
    assert chosen == {"EDITOR": "vi"}
    assert any(s.startswith("BASH_FUNC_myfn%%") for s in skipped)
    assert any(s.startswith("SSL_CERT_FILE") for s in skipped)
    auto, auto_skipped = cred.choose_env("auto", env)
    assert auto == {}
    assert auto_skipped == ["BAD-NAME_TOKEN (not a shell variable name)"]
    listed, _ = cred.choose_env(["EDITOR", "BASH_FUNC_myfn%%"], env)
    assert listed == {"EDITOR": "vi"}
    assert env_file({"OK": "1", "BASH_FUNC_f%%": "x"}) == "export OK=1\n"


def test_forwarded_git_config_drops_signing_and_ssh_rewrites(tmp_path, monkeypatch):
    inc = tmp_path / "inc.gitconfig"
    inc.write_text("[user]\n\tname = Included Name\n", encoding="utf-8")
    main = tmp_path / "main.gitconfig"
    main.write_text(
        f"[include]\n\tpath = {inc}\n"
        "[user]\n\temail = a@b.c\n\tsigningkey = ABC123\n"
        "[commit]\n\tgpgsign = true\n[tag]\n\tgpgsign = true\n[gpg]\n\tprogram = gpg2\n"
        '[url "git@github.com:"]\n\tinsteadOf = https://github.com/\n'
        '[url "https://mirror.example/"]\n\tinsteadOf = https://proxy.example/\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(main))
    text = cred.git_config_text(ssh=False)
    assert text is not None
    assert 'name = "Included Name"' in text, "includes are resolved"
    assert 'email = "a@b.c"' in text
    for gone in ("signingkey", "gpgsign", "gpg2", "git@github.com:", "[include"):
        assert gone not in text
    assert '[url "https://mirror.example/"]' in text
    with_ssh = cred.git_config_text(ssh=True)
    assert with_ssh is not None
    assert '[url "git@github.com:"]' in with_ssh


def test_url_credentials_are_redacted():
    text = "clone https://user:s3cret@github.com/x and https://ghp_abc@h/y and ftp://a:pw@c/d"
    shown = cred.redact_url(text)
    for secret in ("s3cret", "ghp_abc", "pw@"):
        assert secret not in shown
    assert "github.com/x" in shown
    assert cred.redact_url("ssh://git@host/repo") == "ssh://git@host/repo"


def test_secret_looking_config_dir_files_are_left_out():
    from containers_tool.provision.plan import secret_looking

    for name in ("keys.yaml", "keys.env", "api.key", "my_token.txt", "credentials.json", ".env"):
        assert secret_looking(name), name
    assert secret_looking("secrets/anything.json")
    for name in ("settings.yaml", "profiles/dev.md", "collections/x.json"):
        assert not secret_looking(name), name


def test_passwd_entry_of_an_existing_uid_gets_the_tool_home():
    from containers_tool.provision.home import with_home

    passwd = b"root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n"
    rewritten = with_home(passwd, 1000, 1000, "/home/ct")
    assert b"node:x:1000:1000::/home/ct:/bin/sh\n" in rewritten
    assert rewritten.startswith(b"root:x:0:0:root:/root:/bin/sh\n")
    added = with_home(b"root:x:0:0:root:/root:/bin/sh\n", 1234, 1234, "/home/ct")
    assert added.endswith(b"ct:x:1234:1234:containers-tool user:/home/ct:/bin/sh\n")
    assert with_home(rewritten, 1000, 1000, "/home/ct") == rewritten


def test_explicit_images_take_overrides_but_not_the_default_image_prefix():
    settings = Settings(
        image_prefix="mirror.example", image_overrides={"python:3.12-slim": "local/py"}
    )
    assert settings.resolve_image("alpine:3") == "mirror.example/alpine:3"
    assert settings.resolve_image("alpine:3", prefix=False) == "alpine:3"
    assert settings.resolve_image("python:3.12-slim", prefix=False) == "local/py"


def test_builtin_purposes_are_package_data():
    # The wheel carries them (pyproject package-data); the repo's root `purposes` links here.
    assert BUILTIN_DIR.parent == Path(containers_tool.__file__).parent
    assert {p.stem for p in BUILTIN_DIR.glob("*.yaml")} >= {"python", "clean", "amplifier"}
    assert (REPO_ROOT / "purposes").resolve() == BUILTIN_DIR.resolve()


def test_build_env_settings_beat_purpose_defaults_and_enter_the_key_and_image_env():
    settings = Settings(build_env={"AMPLIFIER_SOURCE": "amplifier", "GOPROXY": "http://m/"})
    amp = PurposeRegistry(settings).get("amplifier")
    assert amp.build_env["AMPLIFIER_SOURCE"] == "amplifier"
    pinned = amp.with_build_env(AMPLIFIER_VERSION="1.2.3")
    text = dockerfile(pinned, False)
    assert 'ENV AMPLIFIER_SOURCE="amplifier"' in text
    assert 'ENV AMPLIFIER_VERSION="1.2.3"' in text
    assert "RUSTUP_DIST_SERVER" not in text  # unset variables stay unset
    assert text.index("ENV AMPLIFIER_SOURCE") < text.index("RUN ")  # the setup steps see it
    assert cache_key(amp, "sha256:1", None) != cache_key(pinned, "sha256:1", None)
    default = PurposeRegistry(Settings()).get("amplifier")
    assert default.build_env["AMPLIFIER_SOURCE"].startswith("git+https://github.com/")
    assert cache_key(default, "sha256:1", None) != cache_key(amp, "sha256:1", None)


def test_build_env_names_must_be_shell_variables():
    with pytest.raises(ValidationError):
        _purpose(build_env={"not a name": "x"})


def test_a_purpose_gets_only_the_build_env_it_declares():
    settings = Settings(build_env={"GOPROXY": "http://mirror/go", "AMPLIFIER_SOURCE": "x"})
    registry = PurposeRegistry(settings)
    assert registry.get("go").build_env["GOPROXY"] == "http://mirror/go"
    assert "GOPROXY" not in registry.get("python").build_env
    assert "AMPLIFIER_SOURCE" not in registry.get("go").build_env
    plain = PurposeRegistry(Settings()).get("python")
    assert cache_key(registry.get("python"), "sha256:1", None) == cache_key(plain, "sha256:1", None)
