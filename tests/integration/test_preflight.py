"""preflight on both engines: the success payload an agent reads before anything else."""

from __future__ import annotations


def test_preflight_reports_ready_runtime_version_and_checks(tool, engine, raw):
    result = tool.call("preflight")
    assert (result["ok"], result["ready"], result["runtime"]) == (True, True, engine)
    assert result["version"] == raw.version()["Version"]
    checks = result["checks"]
    assert {"engine", "default_image"} <= {c["name"] for c in checks}
    for check in checks:
        assert set(check) == {"name", "passed", "required", "detail", "fix"}, check
        assert isinstance(check["detail"], str)
        assert check["detail"]
        if check["required"]:  # ready is true, so every required check passed
            assert check["passed"] is True, check
        # A fix is given exactly for a failed check (advisory ones, e.g. network_isolation).
        assert (check["fix"] == "") is check["passed"], check
