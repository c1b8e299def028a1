"""Per-create provisioning at its edges, on both engines: order, mounts, probes, HOME, env."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from containers_tool import ContainersTool
from containers_tool import labels as lb
from containers_tool.provision.credentials import CA_PATH
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, DEBIAN, host_repo

pytestmark = pytest.mark.slow


def _steps(result):
    return {s["step"]: s for s in result["provisioning"]}


def _tool_with(tool, engine, folder, **yaml_files):
    """A tool that also sees the purposes written to `folder`."""
    for name, text in yaml_files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return ContainersTool(
        Settings(runtime=engine, purposes_dir=str(folder)),
        session_id=tool.session_id,
        reap_on_exit=False,
    )


def _owner_mode(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid, st.st_mode


def test_config_files_under_a_mounted_workdir_reach_the_host_without_chown(tool, tmp_path):
    host = tmp_path / "host"
    (host / "sub").mkdir(parents=True)
    host.chmod(0o777)
    (host / "sub").chmod(0o777)
    before = {p: _owner_mode(p) for p in (host, host / "sub")}
    made = tool.call(
        "create",
        image=BUSYBOX,
        user="1000:1000",
        mounts=[{"source": str(host), "target": "/workspace"}],
        config_files={"sub/new.txt": "a $HOME `b`\n", "top.txt": "top", "deep/er/x": "x"},
    )
    assert made["ok"], made
    after = {p: _owner_mode(p) for p in before}
    assert after == before, "the tool changed the owner or mode of a host directory"
    assert (host / "sub" / "new.txt").read_bytes() == b"a $HOME `b`\n"
    assert (host / "top.txt").read_bytes() == b"top"
    assert (host / "deep" / "er" / "x").read_bytes() == b"x"
    assert (host / "sub" / "new.txt").stat().st_uid == 1000, "written by the mapped user"
    step = _steps(made)["config_files"]
    assert (step["status"], step["detail"]) == ("success", "3/3 written byte-exact")
    tool.call("destroy", container=made["container"])


def test_config_file_on_a_read_only_mount_is_reported_failed(tool, tmp_path):
    made = tool.call(
        "create",
        image=BUSYBOX,
        mounts=[{"source": str(tmp_path), "target": "/ro", "read_only": True}],
        config_files={"/ro/x.conf": "x", "/etc/ok.conf": "ok"},
    )
    assert made["ok"], made
    step = _steps(made)["config_files"]
    assert step["status"] == "partial"
    assert step["detail"].startswith("1/2 written")
    assert "/ro/x.conf" in step["detail"]
    assert not (tmp_path / "x.conf").exists()
    tool.call("destroy", container=made["container"])


def test_config_files_land_in_cloned_repos_and_beat_dotfiles(tool, tmp_path):
    host_repo(tmp_path / "src", {"README": "hello\n"})
    made = tool.call(
        "create",
        purpose="t-pip",
        mounts=[{"source": str(tmp_path / "src"), "target": "/src", "read_only": True}],
        repos=[{"url": "file:///src", "path": "proj"}],
        dotfiles_inline={".bashrc": "from dotfiles\n"},
        config_files={"proj/.env.local": "A=1\n", "~/.bashrc": "explicit\n"},
    )
    assert made["ok"], made
    steps = _steps(made)
    assert steps["repos"]["status"] == "success", steps["repos"]
    assert steps["config_files"]["status"] == "success", steps["config_files"]
    order = [s["step"] for s in made["provisioning"]]
    assert order.index("dotfiles") < order.index("repos") < order.index("config_files")
    assert order.index("config_files") < order.index("setup_commands")
    ran = tool.call(
        "exec", container=made["container"], command="cat proj/README proj/.env.local ~/.bashrc"
    )
    assert ran["stdout"] == "hello\nA=1\nexplicit\n"
    tool.call("destroy", container=made["container"])


PROBE_FAILS = (
    "name: t-badprobe\ndescription: probe fails\nimage: localhost/base/busybox:latest\n"
    "setup: ['echo built > /etc/built']\nprobe: 'echo probe-said-no >&2; exit 4'\n"
)


def test_a_failing_probe_is_build_failed_and_never_cached(tool, tmp_path, engine):
    bad = _tool_with(tool, engine, tmp_path, **{"t-badprobe": PROBE_FAILS})
    runtime = bad.context.runtime
    wanted = {lb.CACHE_LABEL: "true", "io.containers-tool.purpose": "t-badprobe"}
    before = {t for i in runtime.list_images(wanted) for t in i.tags}
    first = bad.call("create", purpose="t-badprobe")
    assert (first["error"]["code"], first["error"]["field"]) == ("build_failed", "purpose")
    assert "probe-said-no" in first["error"]["hint"], first["error"]
    left = {t for i in runtime.list_images(wanted) for t in i.tags}
    assert left <= before, "no tag of an unproven image remains"
    with ThreadPoolExecutor(2) as pool:
        again = list(pool.map(lambda _: bad.call("create", purpose="t-badprobe"), range(2)))
    assert [r["error"]["code"] for r in again] == ["build_failed", "build_failed"], again
    assert runtime.list_containers({"io.containers-tool.purpose": "t-badprobe"}) == []


def test_probe_runs_in_a_fresh_container_before_any_per_create_step(tool, tmp_path, engine):
    fresh = _tool_with(
        tool,
        engine,
        tmp_path,
        **{
            "t-fresh": "name: t-fresh\ndescription: fresh probe\n"
            "image: localhost/base/busybox:latest\nsetup: ['true']\n"
            "probe: 'test ! -e /tmp/from-setup && test ! -e /tmp/from-dotfiles'\n"
        },
    )
    made = fresh.call(
        "create",
        purpose="t-fresh",
        cache_bust=True,
        user="0:0",
        setup_commands=["touch /tmp/from-setup"],
        dotfiles_script="touch /tmp/from-dotfiles",
    )
    assert made["ok"], made
    assert _steps(made)["probe"]["status"] == "success", made["provisioning"]
    fresh.call("destroy", container=made["container"])
    fresh.call("cache_clear", purpose="t-fresh")


def test_env_passthrough_all_skips_bad_names_and_host_ca_paths(tool, tmp_path, monkeypatch):
    bundle = tmp_path / "host-ca.pem"
    bundle.write_text("not really a certificate\n", encoding="utf-8")
    monkeypatch.setenv("BASH_FUNC_myfn%%", "() {  echo hi\n}")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("CT_PLAIN_SETTING", "plain value")
    made = tool.call("create", image=BUSYBOX, env_passthrough="all", forward_ca=True)
    assert made["ok"], made
    env = _steps(made)["env"]
    assert "BASH_FUNC_myfn%%" in env["detail"]
    assert "SSL_CERT_FILE" in env["detail"]
    ran = tool.call(
        "exec",
        container=made["container"],
        command='echo "$CT_PLAIN_SETTING|$SSL_CERT_FILE|$REQUESTS_CA_BUNDLE"',
    )
    assert ran["exit_code"] == 0, ran
    assert ran["stdout"] == f"plain value|{CA_PATH}|{CA_PATH}\n"
    tool.call("destroy", container=made["container"])


def test_explicit_dotfiles_opt_in_without_a_purpose_and_with_clean(tool):
    plain = tool.call("create", image=BUSYBOX, dotfiles_inline={".x": "from inline\n"})
    clean = tool.call("create", purpose="clean", dotfiles_inline={".x": "from inline\n"})
    for made in (plain, clean):
        assert made["ok"], made
        step = _steps(made)["dotfiles"]
        assert (step["status"], step["detail"]) == ("success", "1/1 inline file(s) written")
        ran = tool.call("exec", container=made["container"], command="cat ~/.x")
        assert ran["stdout"] == "from inline\n"
        tool.call("destroy", container=made["container"])
    skipped = tool.call("create", image=BUSYBOX, dotfiles_inline={".x": "y"}, dotfiles_skip=True)
    assert _steps(skipped)["dotfiles"]["status"] == "skipped"
    ran = tool.call("exec", container=skipped["container"], command="test -e ~/.x")
    assert ran["exit_code"] == 1
    tool.call("destroy", container=skipped["container"])


def test_named_user_gets_a_real_writable_home_matching_passwd(tool):
    made = tool.call("create", image=DEBIAN, user="nobody", config_files={"~/a.txt": "a"})
    assert made["ok"], made
    ran = tool.call(
        "exec",
        container=made["container"],
        command='id -u; echo "$HOME"; touch "$HOME/w" && echo writable; stat -c %u "$HOME" '
        '"$HOME/a.txt"; awk -F: \'$1=="nobody"{print $6}\' /etc/passwd',
    )
    uid, home, writable, home_owner, file_owner, passwd_home = ran["stdout"].split()
    assert home == made["home"] == passwd_home
    assert writable == "writable"
    assert home_owner == file_owner == uid
    tool.call("destroy", container=made["container"])
    unknown = tool.call("create", image=DEBIAN, user="no-such-user")
    assert (unknown["error"]["code"], unknown["error"]["field"]) == ("invalid_input", "user")


def test_forward_gh_false_stops_github_tokens_that_auto_would_forward(tool, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", "ghp_should_not_arrive_1234")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_should_not_arrive_5678")
    monkeypatch.setenv("CT_OTHER_API_KEY", "sk-arrives")
    made = tool.call("create", purpose="t-cache", env_passthrough="auto", forward_gh=False)
    assert made["ok"], made
    ran = tool.call(
        "exec",
        container=made["container"],
        command='echo "${GH_TOKEN:-none} ${GITHUB_TOKEN:-none} $CT_OTHER_API_KEY"',
    )
    assert ran["stdout"] == "none none sk-arrives\n"
    tool.call("destroy", container=made["container"])


def test_gh_without_git_reports_the_credential_helper_gitconfig(tool, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", "ghp_helper_only_0000")
    made = tool.call("create", purpose="t-cache", forward_gh=True, forward_git=False)
    assert made["ok"], made
    assert ".gitconfig" in _steps(made)["git"]["detail"]
    ran = tool.call("exec", container=made["container"], command="cat ~/.gitconfig")
    assert "credential" in ran["stdout"]
    assert "ghp_helper_only_0000" not in ran["stdout"]
    tool.call("destroy", container=made["container"])


def test_forward_git_resolves_includes(tool, tmp_path, monkeypatch):
    inc = tmp_path / "inc.gitconfig"
    inc.write_text("[user]\n\tname = Included Name\n", encoding="utf-8")
    main = tmp_path / "main.gitconfig"
    main.write_text(f"[include]\n\tpath = {inc}\n[user]\n\temail = i@example.com\n", "utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(main))
    made = tool.call("create", purpose="t-pip", forward_git=True)
    assert made["ok"], made
    assert _steps(made)["git"]["status"] == "success"
    ran = tool.call(
        "exec",
        container=made["container"],
        command="git config --global user.name; git config --global user.email",
    )
    assert ran["stdout"] == "Included Name\ni@example.com\n"
    tool.call("destroy", container=made["container"])


def test_repo_urls_and_install_commands_are_redacted_in_the_report(tool, tmp_path):
    host_repo(tmp_path / "src", {"README": "x\n"})
    made = tool.call(
        "create",
        purpose="t-pip",
        mounts=[{"source": str(tmp_path / "src"), "target": "/src", "read_only": True}],
        repos=[
            {"url": "https://user:url-pass-1234@127.0.0.1:1/x.git", "path": "a"},
            {
                "url": "file:///src",
                "path": "b",
                "install": "echo https://u:inst-pass-5678@h/ >&2; exit 3",
            },
        ],
    )
    assert made["ok"], made
    detail = _steps(made)["repos"]["detail"]
    assert _steps(made)["repos"]["status"] == "failed"
    for secret in ("url-pass-1234", "inst-pass-5678"):
        assert secret not in detail
    tool.call("destroy", container=made["container"])


def test_config_dirs_copy_settings_but_not_keys_and_say_so(tool, tmp_path, engine, monkeypatch):
    home = tmp_path / "home"
    conf = home / ".t-conf"
    (conf / "sub").mkdir(parents=True)
    (conf / "settings.yaml").write_text("model: x\n", encoding="utf-8")
    (conf / "keys.yaml").write_text("anthropic: sk-conf-secret-1\n", encoding="utf-8")
    (conf / "keys.env").write_text("K=sk-conf-secret-2\n", encoding="utf-8")
    (conf / "sub" / "github_token").write_text("ghp_conf_secret_3\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    purposes = tmp_path / "purposes"
    purposes.mkdir()
    conf_tool = _tool_with(
        tool,
        engine,
        purposes,
        **{
            "t-conf": "name: t-conf\ndescription: config dirs\n"
            "image: localhost/base/busybox:latest\nconfig_dirs: [.t-conf]\nprobe: 'true'\n"
        },
    )
    made = conf_tool.call("create", purpose="t-conf")
    assert made["ok"], made
    step = _steps(made)["config_dirs"]
    assert step["status"] == "success"
    assert "settings.yaml" in step["detail"]
    for name in ("keys.yaml", "keys.env", "sub/github_token"):
        assert name in step["detail"], "left-out files are named"
    assert "sk-conf-secret" not in step["detail"]
    ran = conf_tool.call(
        "exec",
        container=made["container"],
        as_root=True,
        command="cat ~/.t-conf/settings.yaml; "
        "grep -rl conf-secret /home /root /etc /workspace /tmp 2>/dev/null | wc -l",
    )
    assert ran["stdout"] == "model: x\n0\n"
    conf_tool.call("destroy", container=made["container"])
    conf_tool.call("cache_clear", purpose="t-conf")


def test_home_on_a_bind_mount_gets_its_files_from_the_mapped_user(tool, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o777)
    before = _owner_mode(home)
    made = tool.call(
        "create",
        image=BUSYBOX,
        user="1000:1000",
        mounts=[{"source": str(home), "target": "/home/ct"}],
        dotfiles_inline={".config/app/rc": "inline\n"},
        config_files={"~/.explicit": "explicit"},
    )
    assert made["ok"], made
    assert _owner_mode(home) == before, "the host directory kept its owner and mode"
    assert (home / ".config" / "app" / "rc").read_bytes() == b"inline\n"
    assert (home / ".explicit").read_bytes() == b"explicit"
    assert (home / ".config" / "app" / "rc").stat().st_uid == 1000
    steps = _steps(made)
    assert steps["dotfiles"]["detail"] == "1/1 inline file(s) written", steps["dotfiles"]
    assert steps["config_files"]["status"] == "success", steps["config_files"]
    tool.call("destroy", container=made["container"])
