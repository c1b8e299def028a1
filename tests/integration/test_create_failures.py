"""create against awkward images and bad input: it runs what it promises or leaves nothing."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.integration.conftest import BUSYBOX, absent, unique


def _gone(raw, name):
    return absent(raw, name)


@pytest.fixture
def entrypoint_image(raw, tmp_path):
    """A tiny image whose ENTRYPOINT would swallow the keep-alive command as its arguments."""
    tag = f"localhost/containers-tool-test/entrypoint:{secrets.token_hex(4)}"
    (tmp_path / "Dockerfile").write_text(f'FROM {BUSYBOX}\nENTRYPOINT ["echo"]\n', encoding="utf-8")
    raw.images.build(path=str(tmp_path), dockerfile="Dockerfile", tag=tag, rm=True, forcerm=True)
    yield tag
    raw.images.remove(tag, force=True)


def test_image_with_an_entrypoint_still_runs_the_keep_alive(tool, raw, entrypoint_image):
    made = tool.call("create", image=entrypoint_image)
    assert made["ok"], made
    try:
        assert raw.containers.get(made["container"]).status == "running"
        said = tool.call("exec", container=made["container"], command="echo hi")
        assert (said["exit_code"], said["stdout"]) == (0, "hi\n")
    finally:
        tool.call("destroy", container=made["container"])


def test_service_of_an_entrypoint_image_keeps_its_entrypoint(tool, raw, entrypoint_image):
    # keep_command runs the image's own ENTRYPOINT: here it echoes and exits, so create fails,
    # quotes the output and removes the container.
    name = unique("ep")
    made = tool.call("create", name=name, image=entrypoint_image, keep_command=True)
    assert (made["error"]["code"], made["error"]["field"]) == ("conflict", "keep_command")
    assert "exit 0" in made["error"]["message"]
    assert _gone(raw, name)


@pytest.mark.parametrize(
    ("field", "value"), [("user", "nobodyxyz"), ("user", "0:nogroupxyz"), ("workdir", "/proc/x")]
)
def test_create_failing_at_start_names_the_field_and_leaves_nothing(tool, raw, field, value):
    # The container exists when its start fails: the undo must remove it.
    name = unique("half")
    made = tool.call("create", name=name, image=BUSYBOX, **{field: value})
    assert (made["error"]["code"], made["error"]["field"]) == ("invalid_input", field)
    assert not re.search(r"[0-9a-f]{64}", made["error"]["message"]), "names, not ids"
    assert _gone(raw, name)


def test_cpu_limit_above_the_host_cpus_is_invalid_input_on_both_engines(tool, raw, engine):
    info = raw.info()
    cpus = int(info["NCPU"] if engine == "docker" else info["host"]["cpus"])
    name = unique("cpu")
    made = tool.call("create", name=name, image=BUSYBOX, cpu_limit=cpus + 1)
    assert (made["error"]["code"], made["error"]["field"]) == ("invalid_input", "cpu_limit")
    assert f"at most {cpus}" in made["error"]["hint"]
    assert _gone(raw, name)
    fits = tool.call("create", name=name, image=BUSYBOX, cpu_limit=cpus)
    assert fits["ok"], fits
    tool.call("destroy", container=name)
