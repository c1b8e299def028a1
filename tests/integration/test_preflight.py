"""preflight on both engines: the success payload an agent reads before anything else."""

from __future__ import annotations

import json
import shutil
import subprocess

from containers_tool import ContainersTool
from containers_tool.core import preflight
from containers_tool.settings import Settings
from tests.conftest import REPO
from tests.integration.conftest import BUSYBOX


def test_preflight_reports_ready_runtime_version_and_checks(tool, engine, raw):
    result = tool.call("preflight")
    assert (result["ok"], result["ready"], result["runtime"]) == (True, True, engine)
    assert result["version"] == raw.version()["Version"]
    checks = result["checks"]
    assert {"engine", "default_image", "disk_space"} <= {c["name"] for c in checks}
    for check in checks:
        assert set(check) == {"name", "passed", "required", "detail", "fix"}, check
        assert isinstance(check["detail"], str)
        assert check["detail"]
        if check["required"]:  # ready is true, so every required check passed
            assert check["passed"] is True, check
        # A fix is given exactly for a failed check (advisory ones, e.g. network_isolation).
        assert (check["fix"] == "") is check["passed"], check


NAMES = {
    "runtime_installed",
    "daemon_running",
    "user_permissions",
    "engine",
    "default_image",
    "disk_space",
    "rootless",
    "compose",
    "network_isolation",
}


def test_preflight_has_the_seed_checks_and_measures_disk_where_images_live(tool, engine, raw):
    checks = {c["name"]: c for c in tool.call("preflight")["checks"]}
    assert set(checks) >= NAMES
    for name in ("runtime_installed", "daemon_running", "user_permissions", "disk_space"):
        assert checks[name]["passed"] is True, checks[name]
    info = raw.info()
    root = info["DockerRootDir"] if engine == "docker" else info["store"]["graphRoot"]
    assert root in checks["disk_space"]["detail"]
    free_gib = shutil.disk_usage(root).free / 2**30
    shown = float(checks["disk_space"]["detail"].split(" GiB")[0])
    assert abs(shown - free_gib) < 1.0


def test_default_image_check_fails_when_absent_and_unpullable(engine):
    settings = Settings(runtime=engine, default_image="registry.invalid/h11/absent:1")
    with ContainersTool(settings) as tool:
        result = tool.call("preflight")
    check = next(c for c in result["checks"] if c["name"] == "default_image")
    assert (result["ready"], check["passed"]) == (False, False)
    assert "cannot be pulled" in check["detail"]
    assert check["fix"]


def test_disk_space_below_the_minimum_fails_preflight_and_is_creates_error(engine, monkeypatch):
    monkeypatch.setattr(preflight, "MIN_FREE_BYTES", 2**62)  # more than any disk has
    monkeypatch.setattr(preflight, "_passed", set())
    with ContainersTool(Settings(runtime=engine)) as tool:
        result = tool.call("preflight")
        made = tool.call("create", image=BUSYBOX)
        listed = tool.call("list", session_id=tool.session_id)
    check = next(c for c in result["checks"] if c["name"] == "disk_space")
    assert (result["ready"], check["passed"]) == (False, False)
    assert "cache_clear" in check["fix"]
    assert made["error"]["code"] == "quota_exceeded"
    assert "disk_space" in made["error"]["message"]
    assert listed["count"] == 0  # nothing was made


def test_preflight_runs_once_before_the_first_create_of_a_process(engine, monkeypatch):
    monkeypatch.setattr(preflight, "_passed", set())
    with ContainersTool(Settings(runtime=engine)) as tool:
        assert preflight._passed == set()
        made = tool.call("create", image=BUSYBOX)
        assert made["ok"], made
        assert len(preflight._passed) == 1  # cached: later creates skip it
        tool.call("destroy", container=made["container"])


def test_a_user_without_socket_access_gets_user_permissions_with_a_fix(engine):
    # Run as nobody: the rootful sockets are root:docker 0660 and root 0600.
    site = next((REPO / ".venv" / "lib").glob("python3*/site-packages"))
    script = (
        "import json; from containers_tool import ContainersTool; "
        f"t = ContainersTool(runtime={engine!r}); "
        "print(json.dumps([t.call('preflight'), t.call('create', image='x')]))"
    )
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    out = subprocess.run(
        [*nobody, "/usr/bin/python3", "-c", script],
        env={"HOME": "/nonexistent", "PYTHONPATH": f"{REPO}:{site}", "PATH": "/usr/bin:/bin"},
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    report, made = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["runtime_installed"]["passed"] is True
    assert checks["user_permissions"]["passed"] is False
    assert "usermod" in checks["user_permissions"]["fix"]
    assert made["error"]["code"] == "runtime_unavailable"
    assert "user_permissions" in made["error"]["message"]
