"""The human CLI: generated subcommands, exit statuses, quickstart, and the shell handoff (pty)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from containers_tool.cli.main import build_parser, main
from containers_tool.handlers import OPERATIONS
from tests.integration.conftest import BUSYBOX, absent, unique

CLI = [sys.executable, "-m", "containers_tool"]


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_every_registered_operation_has_a_subcommand():
    parser, kinds = build_parser()
    assert set(kinds) == set(OPERATIONS) - {"shell", "mcp", "call", "schema", "quickstart"}
    for op in OPERATIONS:
        with pytest.raises(SystemExit) as done:
            parser.parse_args([op.replace("_", "-"), "--help"])
        assert done.value.code == 0


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    # The list is built from the operations' docs, which may hold a literal "%".
    parser, _ = build_parser()
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["--help"])
    assert done.value.code == 0
    assert "stats" in capsys.readouterr().out


def test_schema_write_writes_tool_schema(tmp_path: Path) -> None:
    from containers_tool.schema import schema_text

    target = tmp_path / "tool-schema.json"
    assert main(["schema", "--write", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == schema_text()


def test_cli_subcommands_create_exec_status_and_destroy(engine, raw, capsys):
    name = unique("cli")
    rt = ["--runtime", engine]
    try:
        args = [*rt, "--json", "create", "--image", BUSYBOX, "--name", name, "--env", "A=1"]
        assert main(args) == 0
        made = _json(capsys)
        assert made["container"] == name
        assert made["runtime"] == engine

        assert main([*rt, "exec", name, "--", "echo $A"]) == 0
        assert capsys.readouterr().out.strip() == "1"
        assert main([*rt, "exec", name, "--", "sh", "-c", "exit 3"]) == 3  # argv, no shell

        assert main([*rt, "status", name, "--json"]) == 0
        assert _json(capsys)["state"] == "running"
        assert main([*rt, "call", json.dumps({"operation": "list"})]) == 0
        assert name in [c["name"] for c in _json(capsys)["containers"]]

        assert main([*rt, "destroy", name]) == 0
        assert absent(raw, name)
        capsys.readouterr()
        assert main([*rt, "--json", "destroy", name]) == 1
        failed = _json(capsys)
        assert failed["error"]["code"] == "not_found"
        assert failed["error"]["field"] == "container"
    finally:
        main([*rt, "--json", "destroy", name])


def test_cli_quickstart_leaves_no_container_behind(engine, raw):
    def cli_containers() -> set[str]:
        filters = {"label": "io.containers-tool.session=cli"}
        return {c.name for c in raw.containers.list(all=True, filters=filters)}

    before = cli_containers()
    done = subprocess.run(
        [*CLI, "quickstart"],
        env={**os.environ, "CONTAINERS_TOOL_RUNTIME": engine},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert cli_containers() <= before


class Terminal:
    """A process on a pseudo-terminal: type into it, read what it prints."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: become the CLI
            os.execve(argv[0], argv, env)  # noqa: S606 - the child becomes the CLI under test
        self.screen = b""
        self.returncode: int | None = None

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def read_until(self, marker: bytes, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while marker not in self.screen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.fd, 4096)
                except OSError:  # the other side closed
                    break
        return marker in self.screen

    def wait(self, timeout: float = 20) -> int | None:
        deadline = time.monotonic() + timeout
        while self.returncode is None and time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                os.close(self.fd)
            else:
                self.read_until(b"\0", timeout=0.1)  # keep draining output
        return self.returncode

    def close(self) -> None:
        if self.wait(timeout=0) is None:
            os.kill(self.pid, 9)
            self.wait()


def test_shell_replaces_itself_with_the_engine_shell_as_the_mapped_user_in_the_workdir(
    engine, tool
):
    made = tool.call("create", image=BUSYBOX, name=unique("sh"), user="1234:1234")
    assert made["ok"], made
    name = str(made["container"])
    env = {**os.environ, "CONTAINERS_TOOL_RUNTIME": engine, "TERM": "dumb"}
    # The container is the test session's own (ephemeral): the human acts in that session.
    term = Terminal([*CLI, "--as-session", tool.session_id, "shell", name], env)
    try:
        # The arithmetic proves the line below is the shell's output, not the echo of our typing.
        term.type("echo MARK-$((40+2)) uid=$(id -u) cwd=$(pwd)\n")
        assert term.read_until(b"MARK-42"), term.screen
        assert b"MARK-42 uid=1234 cwd=/workspace" in term.screen
        cmdline = Path(f"/proc/{term.pid}/cmdline").read_bytes().split(b"\0")
        assert Path(cmdline[0].decode()).name == engine  # same pid: execvp, not a child
        term.type("exit 7\n")
        assert term.wait() == 7
    finally:
        term.close()
        tool.call("destroy", container=name)
