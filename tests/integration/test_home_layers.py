"""HOME baked into a derived image (Docker) gives the same container as HOME written into it.

A mapped user's create with nothing to forward writes one fixed archive; on Docker the tool
derives `image + archive` once in the background and later creates start from it. Each test
uses its own uid and workdir, so its derived image is its own (other tests run beside it).
On Podman, which has no such layers, the same creates must keep writing the archive.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from containers_tool import ContainersTool
from containers_tool import labels as lb
from containers_tool.provision import layers
from containers_tool.runtime.capabilities import Layers
from containers_tool.settings import Settings
from tests.integration.conftest import BUSYBOX, DEBIAN

pytestmark = pytest.mark.slow

#: What the user sees of itself and its files: ids, names, HOME, owners, passwd, writes.
PROBE = (
    'id -u; id -g; id -un; echo "$HOME"; pwd; stat -c %u:%g:%a "$HOME" "$PWD" /home /etc/passwd; '
    'grep -c . /etc/passwd; grep "^$(id -un):" /etc/passwd; '
    'touch "$HOME/f" "$PWD/f" && echo writable; echo "$PATH"'
)


def _made(tool: ContainersTool, image: str, user: str, workdir: str) -> dict[str, Any]:
    made = tool.call("create", image=image, user=user, workdir=workdir)
    assert made["ok"], made
    return made


def _probe(tool: ContainersTool, name: str) -> list[str]:
    ran = tool.call("exec", container=name, command=PROBE)
    assert ran["exit_code"] == 0, ran
    return str(ran["stdout"]).splitlines()


def _engine_view(raw: Any, name: str) -> tuple[str, dict[str, str], list[str], str]:
    config = raw.containers.get(name).attrs["Config"]
    return (
        config["Image"],
        dict(config.get("Labels") or {}),
        config.get("Env") or [],
        config["User"],
    )


def _fresh_user() -> tuple[str, str]:
    uid = 20000 + secrets.randbelow(40000)
    return f"{uid}:{uid}", f"/w-{secrets.token_hex(3)}"


def _derived(raw: Any) -> set[str]:
    return {t for i in raw.images.list(name=layers.REPO) for t in i.tags}


@pytest.mark.parametrize("image", [BUSYBOX, DEBIAN])
def test_a_baked_create_is_the_same_container_as_a_written_one(
    tool: ContainersTool, raw: Any, engine: str, image: str
) -> None:
    user, workdir = _fresh_user()
    first = _made(tool, image, user, workdir)
    written = _probe(tool, str(first["container"]))
    written_view = _engine_view(raw, str(first["container"]))
    layers.wait()  # the derive runs in the background after the first create
    second = _made(tool, image, user, workdir)
    baked = _probe(tool, str(second["container"]))
    baked_view = _engine_view(raw, str(second["container"]))
    status = tool.call("status", container=second["container"])
    listed: Any = tool.call("list")
    for made in (first, second):
        tool.call("destroy", container=made["container"])

    assert baked == written
    uid = user.partition(":")[0]
    assert baked[:2] == [uid, uid]
    assert baked[3:5] == ["/home/ct", workdir]
    assert baked[5:9] == [f"{uid}:{uid}:755", f"{uid}:{uid}:755", "0:0:755", "0:0:644"]
    assert baked[-2] == "writable"
    # The caller sees its own image everywhere, whichever the engine runs.
    assert first["image"] == second["image"] == status["image"] == image
    row = next(r for r in listed["containers"] if r["name"] == second["container"])
    assert row["image"] == image
    engine_image, labels, env, engine_user = baked_view

    def _env(values: list[str]) -> list[str]:  # Podman lists each container's HOSTNAME
        return sorted(v for v in values if not v.startswith("HOSTNAME="))

    assert (_env(env), engine_user) == (_env(written_view[2]), written_view[3])
    own = {k for k in labels if k.startswith(lb.PREFIX)} - {lb.IMAGE}
    assert own == {k for k in written_view[1] if k.startswith(lb.PREFIX)}
    if tool.context.capability(Layers) is not None:
        assert written_view[0] == image
        assert engine_image.startswith(layers.REPO + ":")
        assert labels[lb.IMAGE] == image
        assert {k: v for k, v in labels.items() if not k.startswith(lb.PREFIX)} == {
            k: v for k, v in written_view[1].items() if not k.startswith(lb.PREFIX)
        }, "the derived image adds no label of its own"
    else:
        assert engine == "podman"
        assert engine_image == written_view[0] == image
        assert lb.IMAGE not in labels


@pytest.mark.parametrize(
    ("image", "user", "extra"),
    [
        (BUSYBOX, "", {"dotfiles_inline": {".rc": "x"}}),  # a file to forward
        (DEBIAN, "nobody", {}),  # a named user: resolved per create
        (BUSYBOX, "0:0", {}),  # root: nothing to write
    ],
)
def test_only_a_fixed_archive_is_baked(
    tool: ContainersTool, raw: Any, image: str, user: str, extra: dict[str, Any]
) -> None:
    uid_user, workdir = _fresh_user()
    fields = {"image": image, "user": user or uid_user, "workdir": workdir, **extra}
    engine_images = []
    for _ in range(2):
        made = tool.call("create", **fields)
        assert made["ok"], made
        layers.wait()
        engine_images.append(_engine_view(raw, str(made["container"]))[0])
        tool.call("destroy", container=made["container"])
    assert engine_images == [image, image]


def test_a_derived_image_removed_elsewhere_is_written_again(tool: ContainersTool, raw: Any) -> None:
    user, workdir = _fresh_user()
    first = _made(tool, BUSYBOX, user, workdir)
    layers.wait()
    second = _made(tool, BUSYBOX, user, workdir)
    tag = _engine_view(raw, str(second["container"]))[0]
    for made in (first, second):
        tool.call("destroy", container=made["container"])
    if tool.context.capability(Layers) is None:
        assert tag == BUSYBOX
        return
    assert tag.startswith(layers.REPO + ":")
    raw.images.remove(tag)  # another process's cache_clear; this one still believes in it
    third = _made(tool, BUSYBOX, user, workdir)
    seen = _probe(tool, str(third["container"]))
    assert _engine_view(raw, str(third["container"]))[0] == BUSYBOX
    tool.call("destroy", container=third["container"])
    uid = user.partition(":")[0]
    assert seen[:2] == [uid, uid]
    assert seen[3:5] == ["/home/ct", workdir]
    assert seen[-2] == "writable"
    layers.wait()
    assert tag in _derived(raw), "derived again from the archive the third create wrote"
    raw.images.remove(tag)


@pytest.mark.serial  # prunes every derived image on the engine, others' tests' too
def test_prune_keeps_a_derived_image_a_container_uses(tool: ContainersTool, raw: Any) -> None:
    found = tool.context.capability(Layers)
    user, workdir = _fresh_user()
    first = _made(tool, BUSYBOX, user, workdir)  # written; derived in the background
    tool.call("destroy", container=first["container"])
    layers.wait()
    using = _made(tool, BUSYBOX, user, workdir)
    tag = _engine_view(raw, str(using["container"]))[0]
    if found is None:
        tool.call("destroy", container=using["container"])
        assert tag == BUSYBOX
        assert not _derived(raw)
        return
    assert tag.startswith(layers.REPO + ":")
    removed = layers.prune(found, tool.context.engine_key, keep=0)
    assert tag not in removed
    assert tag in _derived(raw)
    tool.call("destroy", container=using["container"])
    # What cache_clear calls; not cache_clear itself, which would drop every purpose image too.
    assert tag in layers.prune(found, tool.context.engine_key, keep=0)
    assert tag not in _derived(raw)


@pytest.mark.parametrize("user", ["1000:1000", "0:0"])
def test_a_plain_git_config_is_baked_with_home(
    tool: ContainersTool, raw: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, user: str
) -> None:
    gitconfig = tmp_path / "gitconfig"
    marker = secrets.token_hex(4)  # its own content: its own derived image
    gitconfig.write_text(f"[user]\n\tname = Layer {marker}\n[alias]\n\tst = status\n", "utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    seen, images = [], []
    for _ in range(2):
        made = tool.call("create", image=BUSYBOX, user=user, forward_git=True)
        assert made["ok"], made
        ran = tool.call(
            "exec",
            container=made["container"],
            command='stat -c %u:%g ~/.gitconfig; grep -c "Layer ' + marker + '" ~/.gitconfig',
        )
        seen.append(ran["stdout"])
        images.append(_engine_view(raw, str(made["container"]))[0])
        tool.call("destroy", container=made["container"])
        layers.wait()
    uid = user.partition(":")[0]
    assert seen == [f"{uid}:{uid}\n1\n"] * 2
    assert images[0] == BUSYBOX
    baked = tool.context.capability(Layers) is not None
    assert images[1].startswith(layers.REPO + ":") if baked else images[1] == BUSYBOX
    if baked:
        raw.images.remove(images[1])


def test_a_git_config_that_names_a_url_is_never_baked(
    tool: ContainersTool, raw: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    gitconfig = tmp_path / "gitconfig"
    token = secrets.token_hex(8)
    gitconfig.write_text(
        f'[user]\n\tname = U\n[url "https://x:{token}@git.example/"]\n'
        "\tinsteadOf = https://git.example/\n",
        "utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    images = []
    for _ in range(2):
        made = tool.call("create", image=BUSYBOX, user="1000:1000", forward_git=True)
        assert made["ok"], made
        ran = tool.call("exec", container=made["container"], command="grep -c x: ~/.gitconfig")
        assert ran["stdout"] == "1\n", ran  # forwarded, as ever: only not into an image
        images.append(_engine_view(raw, str(made["container"]))[0])
        tool.call("destroy", container=made["container"])
        layers.wait()
    assert images == [BUSYBOX, BUSYBOX]


def test_a_purpose_rebuilt_by_cache_bust_never_gets_the_old_layer(
    engine: str, raw: Any, tmp_path: Any
) -> None:
    # cache_bust rebuilds a purpose under the same tag: a layer keyed by the tag would bring
    # the old build's files back.
    (tmp_path / "t-layer.yaml").write_text(
        "name: t-layer\ndescription: layers\nimage: localhost/base/busybox:latest\n"
        "setup: ['cat /proc/sys/kernel/random/uuid > /etc/built']\nprobe: test -s /etc/built\n",
        encoding="utf-8",
    )
    tool = ContainersTool(Settings(runtime=engine, purposes_dir=str(tmp_path)))
    fields = {"purpose": "t-layer", "user": "1000:1000", "forward_git": False}
    try:
        builds = []
        for bust in (False, False, True, False):  # build, bake, rebuild, after the rebuild
            made = tool.call("create", cache_bust=bust, **fields)
            assert made["ok"], made
            ran = tool.call("exec", container=made["container"], command="cat /etc/built")
            builds.append(ran["stdout"])
            tool.call("destroy", container=made["container"])
            layers.wait()
        assert builds[0] == builds[1] != builds[2] == builds[3]
    finally:
        tool.call("cache_clear", purpose="t-layer")
        tool.close()
