"""Purposes, the purpose-image cache and per-create provisioning on both engines."""

from __future__ import annotations

import json
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from containers_tool import ContainersTool
from containers_tool.provision import layers
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, absent, host_repo, unique

pytestmark = pytest.mark.slow


def _steps(result):
    return {s["step"]: s for s in result["provisioning"]}


def test_purpose_image_is_built_once_then_reused(tool):
    first = tool.call("create", purpose="t-cache", cache_bust=True)
    assert first["ok"], first
    assert first["cache_used"] is False
    assert first["purpose"] == "t-cache"
    built_at = tool.call("exec", container=first["container"], command="cat /etc/built-at")
    second = tool.call("create", purpose="t-cache")
    assert second["cache_used"] is True
    assert second["image"] == first["image"]
    again = tool.call(
        "exec", container=second["container"], command="cat /etc/built-at; echo $T_CACHE"
    )
    assert again["stdout"] == built_at["stdout"] + "yes\n", "setup did not run again"
    assert _steps(first)["probe"]["status"] == "success"
    assert _steps(second)["probe"]["status"] == "skipped"
    bust = tool.call("create", purpose="t-cache", cache_bust=True)
    assert bust["cache_used"] is False
    rebuilt = tool.call("exec", container=bust["container"], command="cat /etc/built-at")
    assert rebuilt["stdout"] != built_at["stdout"], "cache_bust ran the setup again"
    for made in (first, second, bust):
        tool.call("destroy", container=made["container"])


def test_a_cached_purpose_image_holds_the_workdir_and_a_mapped_user_still_owns_it(tool, raw):
    made = [tool.call("create", purpose="t-cache", user=user) for user in (None, "1000:1000")]
    assert all(m["ok"] for m in made), made
    image = raw.images.get(str(made[0]["image"]))
    assert image.attrs["Config"]["WorkingDir"] == "/workspace", "made at build, not each start"
    owners = [
        tool.call("exec", container=m["container"], command="stat -c %u:%g /workspace; touch w")
        for m in made
    ]
    assert [o["stdout"] for o in owners] == ["0:0\n", "1000:1000\n"], owners
    assert [o["exit_code"] for o in owners] == [0, 0], owners
    for m in made:
        tool.call("destroy", container=m["container"])


def test_explicit_image_beats_the_purpose_image(tool):
    made = tool.call("create", purpose="t-cache", image=BUSYBOX)
    assert made["image"] == BUSYBOX
    ran = tool.call("exec", container=made["container"], command="test -e /etc/built-at")
    assert ran["exit_code"] == 1
    tool.call("destroy", container=made["container"])


def test_cache_clear_refuses_while_in_use_then_removes(tool, raw):
    made = tool.call("create", purpose="t-cache")
    tag = made["image"]
    busy = tool.call("cache_clear", purpose="t-cache")
    assert busy["error"]["code"] == "conflict", busy
    assert made["container"] in busy["error"]["message"]
    assert raw.images.get(tag)
    tool.call("destroy", container=made["container"])
    cleared = tool.call("cache_clear", purpose="t-cache")
    assert cleared["ok"], cleared
    assert tag in cleared["removed"]
    with pytest.raises(Exception):  # noqa: B017, PT011 - NotFound differs per SDK
        raw.images.get(tag)
    rebuilt = tool.call("create", purpose="t-cache")
    assert rebuilt["cache_used"] is False
    tool.call("destroy", container=rebuilt["container"])


def test_concurrent_creates_of_an_uncached_purpose_build_once(tool, tmp_path, engine):
    marker = secrets.token_hex(4)
    (tmp_path / "t-race.yaml").write_text(
        "name: t-race\ndescription: race\nimage: localhost/base/busybox:latest\n"
        f"setup: ['echo {marker} > /etc/race']\nprobe: test -s /etc/race\n",
        encoding="utf-8",
    )
    racer = ContainersTool(
        Settings(runtime=engine, purposes_dir=str(tmp_path)),
        session_id=tool.session_id,
        reap_on_exit=False,
    )
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: racer.call("create", purpose="t-race"), range(2)))
    assert all(r["ok"] for r in results), results
    assert sorted(r["cache_used"] for r in results) == [False, True]
    for r in results:
        racer.call("destroy", container=r["container"])
    cleared = racer.call("cache_clear", purpose="t-race")
    # One purpose image; on Docker also the HOME layer derived from it (provision/layers.py).
    built = [r for r in cleared["removed"] if not r.startswith(layers.REPO + ":")]
    assert len(built) == 1, cleared


def test_unknown_purpose_and_missing_repo_url_are_invalid_input(tool):
    unknown = tool.call("create", purpose="cobol")
    assert (unknown["error"]["code"], unknown["error"]["field"]) == ("invalid_input", "purpose")
    assert "t-cache" in unknown["error"]["hint"]
    repo = tool.call("create", purpose="try-repo")
    assert (repo["error"]["code"], repo["error"]["field"]) == ("invalid_input", "repo_url")


def test_forwarded_secret_reaches_commands_but_no_engine_state(tool, raw, monkeypatch, engine):
    secret = "sk-test-" + secrets.token_hex(12)
    monkeypatch.setenv("CT_DEMO_API_KEY", secret)
    made = tool.call("create", purpose="t-cache", env_passthrough="auto", labels={"app": "x"})
    assert made["ok"], made
    name = made["container"]
    assert tool.call("exec", container=name, command="echo $CT_DEMO_API_KEY")["stdout"] == (
        secret + "\n"
    )
    snap = tool.call("snapshot", container=name, name=unique("snap"))
    status = tool.call("status", container=name)
    logs = tool.call("logs", container=name)
    container = raw.containers.get(name)
    engine_state = [
        json.dumps(container.attrs),
        json.dumps(made),
        json.dumps(status),
        json.dumps(logs),
        json.dumps(snap),
    ]
    images = [made["image"]] + ([snap["image"]] if snap.get("ok") else [])
    for ref in images:
        image = raw.images.get(ref)
        engine_state.append(json.dumps(image.attrs))
        engine_state.append(json.dumps(image.history()))
    export = subprocess.run(
        [engine, "image", "save", made["image"]], capture_output=True, check=True
    ).stdout
    assert secret.encode() not in export, "the cached image's layers hold the secret"
    for blob in engine_state:
        assert secret not in blob
    files = _engine_files(engine, raw, container.id)
    assert files, "the engine's state files were found and searched"
    holding = [str(f) for f in files if secret.encode() in f.read_bytes()]
    assert not holding, f"engine state files hold the secret: {holding}"
    assert (
        "CT_DEMO_API_KEY" in container.attrs["Config"]["Labels"]["io.containers-tool.forwarded-env"]
    )
    if snap.get("ok"):
        tool.call("delete_snapshot", snapshot=snap["snapshot"])
    tool.call("destroy", container=name)


def _engine_files(engine, raw, cid):
    """The engine's on-disk records of a container: config, exec sessions, its database."""
    if engine == "docker":
        folder = Path(raw.info()["DockerRootDir"]) / "containers" / cid
        return [p for p in folder.rglob("*") if p.is_file()]
    store = raw.info()["store"]
    graph, run = Path(store["graphRoot"]), Path(store["runRoot"])
    # Podman keeps exec sessions (their env included) in its database: boltdb or sqlite.
    files = [*(graph / "libpod").glob("*.db"), *graph.glob("db.sql*")]
    for root in (graph, run):
        for folder in root.glob(f"*-containers/{cid}"):
            files += [p for p in folder.rglob("*") if p.is_file()]
    return files


def test_home_and_ownership_with_an_image_that_has_uid_1000(tool, tmp_path, engine):
    (tmp_path / "t-uid.yaml").write_text(
        "name: t-uid\ndescription: has uid 1000\nimage: localhost/base/busybox:latest\n"
        "setup: ['echo ubuntu:x:1000:1000::/home/ubuntu:/bin/sh >> /etc/passwd', "
        "'mkdir -p /home/ubuntu /tmp && chown 1000:1000 /home/ubuntu && chmod 1777 /tmp']\n"
        "probe: id ubuntu\n",
        encoding="utf-8",
    )
    uid_tool = ContainersTool(
        Settings(runtime=engine, purposes_dir=str(tmp_path)),
        session_id=tool.session_id,
        reap_on_exit=False,
    )
    made = uid_tool.call(
        "create",
        purpose="t-uid",
        user="1000:1000",
        config_files={"~/.config/app/settings.toml": "a = 1\n"},
    )
    assert made["ok"], made
    name = made["container"]
    src = tmp_path / "in.txt"
    src.write_text("copied", encoding="utf-8")
    uid_tool.call("copy_in", container=name, source=str(src), destination="~in.txt")
    check = uid_tool.call(
        "exec",
        container=name,
        command=(
            'echo "$HOME"; touch "$HOME/w" && echo writable; stat -c %u "$HOME" '
            '"$HOME/.config/app/settings.toml" "$HOME/.config" /workspace/~in.txt; id -un'
        ),
    )
    lines = check["stdout"].split()
    assert lines[0] == made["home"] == "/home/ct"
    assert lines[1] == "writable"
    assert lines[2:6] == ["1000"] * 4
    assert lines[6] == "ubuntu", "the image's own user with that uid is kept"
    uid_tool.call("destroy", container=name)
    uid_tool.call("cache_clear", purpose="t-uid")


def test_config_files_are_byte_exact(tool, tmp_path):
    tricky = "quote ' double \" dollar $HOME backtick `id` backslash \\n tab\t\nü €\n"
    made = tool.call(
        "create",
        image=BUSYBOX,
        config_files={
            "/etc/app/one.conf": tricky,
            "rel/two.txt": "no newline at end",
            "~/three": "",
        },
    )
    assert made["ok"], made
    name = made["container"]
    for path, expected in [
        ("/etc/app/one.conf", tricky),
        ("/workspace/rel/two.txt", "no newline at end"),
        (made["home"] + "/three", ""),
    ]:
        out = tool.call("copy_out", container=name, source=path, destination=str(tmp_path / "f"))
        assert out["ok"], out
        assert (tmp_path / "f").read_bytes() == expected.encode()
    tool.call("destroy", container=name)


def test_setup_failure_is_partial_and_create_still_succeeds(tool):
    made = tool.call(
        "create",
        image=BUSYBOX,
        setup_commands=["echo one > /workspace/1", "exit 7", "echo three > /workspace/3"],
    )
    assert made["ok"] is True
    step = _steps(made)["setup_commands"]
    assert step["status"] == "partial"
    assert "2/3" in step["detail"]
    assert "'exit 7' exited 7" in step["detail"]
    ran = tool.call("exec", container=made["container"], command="cat /workspace/1 /workspace/3")
    assert ran["stdout"] == "one\nthree\n"
    tool.call("destroy", container=made["container"])


def test_repos_are_cloned_inside_the_container(tool, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    git = ["git", "-C", str(src), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(src)], check=True)
    (src / "README").write_text("hello repo\n", encoding="utf-8")
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    made = tool.call(
        "create",
        purpose="t-pip",
        mounts=[{"source": str(src), "target": "/src", "read_only": True}],
        repos=[{"url": "file:///src", "path": "proj", "install": "test -f README"}],
    )
    assert made["ok"], made
    assert _steps(made)["repos"]["status"] == "success", made["provisioning"]
    ran = tool.call(
        "exec",
        container=made["container"],
        command="cat proj/README; git -C proj log --oneline | wc -l",
    )
    assert ran["stdout"] == "hello repo\n1\n"
    assert not (tmp_path / "proj").exists()
    tool.call("destroy", container=made["container"])


def test_clone_urls_that_run_programs_are_refused(tool):
    result = tool.call("create", image=BUSYBOX, repos=[{"url": "ext::sh -c touch% /tmp/x"}])
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid_input", "repos")


def test_ca_forwarding_lets_pip_download_inside_a_container(tool):
    made = tool.call("create", purpose="t-pip")
    assert made["ok"], made
    assert _steps(made)["ca"]["status"] == "success"
    ran = tool.call(
        "exec",
        container=made["container"],
        timeout=180,
        command="pip download --no-deps -q -d /tmp/d six && ls /tmp/d",
    )
    assert ran["exit_code"] == 0, ran["stderr"]
    assert ran["stdout"].startswith("six-")
    tool.call("destroy", container=made["container"])


def test_clean_purpose_forwards_nothing(tool, monkeypatch):
    monkeypatch.setenv("CT_CLEAN_API_KEY", "should-not-arrive")
    made = tool.call("create", purpose="clean")
    assert made["ok"], made
    steps = _steps(made)
    assert all(steps[s]["status"] == "skipped" for s in ("env", "ca", "git", "gh", "ssh"))
    ran = tool.call("exec", container=made["container"], command="echo ${CT_CLEAN_API_KEY:-none}")
    assert ran["stdout"] == "none\n"
    tool.call("destroy", container=made["container"])


def test_repo_url_is_cloned_and_its_language_detected(tool, tmp_path):
    host_repo(tmp_path / "r", {"README": "x\n", "requirements.txt": ""})
    made = tool.call(
        "create",
        purpose="t-pip",
        repo_url="file:///src",
        mounts=[{"source": str(tmp_path / "r"), "target": "/src", "read_only": True}],
    )
    assert made["ok"], made
    step = _steps(made)["try_repo"]
    assert step["status"] == "success", step
    assert step["detail"].startswith("python")
    ls = tool.call("exec", container=made["container"], command="ls")
    assert ls["stdout"].split() == ["README", "requirements.txt"]
    tool.call("destroy", container=made["container"])


def test_dotfiles_inline_repo_and_script_run_in_order(tool, tmp_path):
    host_repo(tmp_path / "dots", {"install.sh": 'echo from-repo > "$HOME/.from-repo"\n'})
    made = tool.call(
        "create",
        purpose="t-pip",
        mounts=[{"source": str(tmp_path / "dots"), "target": "/dots", "read_only": True}],
        dotfiles_repo="file:///dots",
        dotfiles_inline={".bashrc": "export FROM_INLINE=1\n"},
        dotfiles_script='cat "$HOME/.from-repo" > "$HOME/.order"; echo script >> "$HOME/.order"',
    )
    assert made["ok"], made
    assert _steps(made)["dotfiles"]["status"] == "success", made["provisioning"]
    ran = tool.call("exec", container=made["container"], command="cat ~/.bashrc ~/.order")
    assert ran["stdout"] == "export FROM_INLINE=1\nfrom-repo\nscript\n"
    skipped = tool.call(
        "create", purpose="t-cache", dotfiles_skip=True, dotfiles_inline={".x": "y"}
    )
    assert _steps(skipped)["dotfiles"]["status"] == "skipped"
    for name in (made["container"], skipped["container"]):
        tool.call("destroy", container=name)


def test_gh_token_is_usable_but_never_in_config_or_files(tool, raw, monkeypatch):
    token = "ghp_" + secrets.token_hex(16)
    monkeypatch.setenv("GH_TOKEN", token)
    made = tool.call("create", purpose="t-cache", forward_gh=True, env_passthrough="none")
    assert made["ok"], made
    assert _steps(made)["gh"]["status"] == "success"
    name = made["container"]
    assert tool.call("exec", container=name, command="echo $GH_TOKEN")["stdout"] == token + "\n"
    found = tool.call(
        "exec",
        container=name,
        as_root=True,
        command=f"grep -rl {token} /etc /root /home /workspace 2>/dev/null | wc -l",
    )
    assert found["stdout"].strip() == "0", "no file outside the tmpfs holds the token"
    assert token not in json.dumps(raw.containers.get(name).attrs)
    assert token not in json.dumps(made)
    tool.call("destroy", container=name)


def test_ssh_agent_socket_is_forwarded_not_keys(tool, tmp_path, monkeypatch):
    sock = tmp_path / "agent.sock"
    agent = subprocess.run(
        ["ssh-agent", "-a", str(sock)], capture_output=True, text=True, check=True
    )
    pid = next(p.split("=")[1].split(";")[0] for p in agent.stdout.split() if "SSH_AGENT_PID" in p)
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        made = tool.call("create", purpose="t-pip", forward_ssh=True)
        assert made["ok"], made
        assert _steps(made)["ssh"]["status"] == "success"
        # The agent answers through the read-only socket mount: SSH2_AGENTC_REQUEST_IDENTITIES
        # (11) gets SSH2_AGENT_IDENTITIES_ANSWER (12).
        probe = (
            "import os, socket; s = socket.socket(socket.AF_UNIX); "
            "s.connect(os.environ['SSH_AUTH_SOCK']); s.sendall(bytes([0, 0, 0, 1, 11])); "
            "print(s.recv(5)[4])"
        )
        ran = tool.call("exec", container=made["container"], command=["python3", "-c", probe])
        assert ran["stdout"] == "12\n", ran
        keys = tool.call("exec", container=made["container"], command="ls ~/.ssh/id_* | wc -l")
        assert keys["stdout"].strip() == "0"
        tool.call("destroy", container=made["container"])
    finally:
        subprocess.run(["kill", pid], check=False)


def test_failing_purpose_build_is_build_failed_and_leaves_no_container(tool, tmp_path, engine, raw):
    (tmp_path / "t-broken.yaml").write_text(
        "name: t-broken\ndescription: fails\nimage: localhost/base/busybox:latest\n"
        "setup: ['echo about to fail', 'exit 3']\nprobe: 'true'\n",
        encoding="utf-8",
    )
    broken = ContainersTool(
        Settings(runtime=engine, purposes_dir=str(tmp_path)),
        session_id=tool.session_id,
        reap_on_exit=False,
    )
    name = unique("broken")
    result = broken.call("create", purpose="t-broken", name=name)
    assert (result["error"]["code"], result["error"]["field"]) == ("build_failed", "purpose")
    assert "\x1b[" not in result["error"]["message"] + result["error"]["hint"]
    assert absent(raw, name)
