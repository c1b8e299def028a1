"""preflight on both engines: the success payload an agent reads before anything else."""

from __future__ import annotations


def test_preflight_reports_ready_runtime_version_and_checks(tool, engine, raw):
    result = tool.call("preflight")
    assert (result["ok"], result["ready"], result["runtime"]) == (True, True, engine)
    assert result["version"] == raw.version()["Version"]
    checks = result["checks"]
    assert {"engine", "default_image"} <= {c["name"] for c in checks}
    for check in checks:
        assert set(check) == {"name", "passed", "detail", "fix"}, check
        assert check["passed"] is True
        assert isinstance(check["detail"], str)
        assert check["detail"]
        assert check["fix"] == ""  # a fix is only given for a failed check
