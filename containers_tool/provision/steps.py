"""Provisioning after PID 1 starts: secrets file, git, dotfiles, repos, try-repo, setup, probe."""

from __future__ import annotations

import shlex

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.models.lifecycle import CreateInput
from containers_tool.provision.credentials import redact, redact_url
from containers_tool.provision.files import FileEntry, under, write_late, write_stdin
from containers_tool.provision.plan import (
    DOTFILES_SCRIPTS,
    INSTALL_GIT,
    Plan,
    env_file,
    resolve_path,
    wrap_argv,
)
from containers_tool.runtime.capabilities import Shell
from containers_tool.runtime.types import ExecRequest, ExecResult

STEP_TIMEOUT = 900.0


class Runner:
    """Runs provisioning commands as the mapped user (or root), with secrets loaded."""

    def __init__(self, ctx: Context, cid: str, p: Plan) -> None:
        self.ctx, self.cid, self.p = ctx, cid, p

    def sh(
        self,
        script: str,
        *,
        root: bool = False,
        workdir: str | None = None,
        env: dict[str, str] | None = None,
    ) -> ExecResult:
        argv = wrap_argv(bool(self.p.secrets), ["/bin/sh", "-c", script])
        req = ExecRequest(
            argv=argv,
            env=env or {},
            # The container's workdir, named: the engine's WorkingDir may be the image's.
            workdir=workdir or self.p.workdir,
            user="0:0" if root else None,
            timeout_s=STEP_TIMEOUT,
            output_limit=4000,
        )
        return self.ctx.runtime.exec_command(self.cid, req)

    def shown(self, text: str) -> str:
        """Returns `text` fit for the report: secret values and URL credentials redacted."""
        return redact_url(redact(text, self.p.secrets.values()))

    def why(self, result: ExecResult) -> str:
        text = (result.stderr.text or result.stdout.text).strip().splitlines()
        last = text[-1] if text else ("timed out" if result.timed_out else "no output")
        return self.shown(last[:300])


def _step(step: str, status: str, detail: str) -> dict[str, object]:
    return {"step": step, "status": status, "detail": detail}


def after_start(ctx: Context, cid: str, p: Plan, args: CreateInput) -> list[dict[str, object]]:
    """Runs the command steps in order; failures are reported per step, never fatal.

    The order: secrets file, files held back under mounts, git (when a step needs it),
    dotfiles, repos, try_repo, config_files (after the clones they may sit in, and after the
    dotfiles they must beat), setup_commands, then the purpose probe's result.

    Returns:
        The steps, in the order they ran.
    """
    run = Runner(ctx, cid, p)
    steps: list[dict[str, object]] = []
    if p.secrets:
        # Through stdin: an exec's env and argv are kept by the engine (Podman's database).
        entry = FileEntry(lb.ENVFILE_PATH, env_file(p.secrets).encode(), 0o600)
        failed = write_stdin(
            ctx.require(Shell, "create with forwarded secrets"), cid, entry, user=None, umask="077"
        )
        if failed is not None:
            why = redact(failed, p.secrets.values())
            steps.append(_step("env", "failed", f"secrets file not written: {why}"))
    failed_early = _write_deferred(run)
    needs_git = bool(args.repos or args.repo_url or (args.dotfiles_repo and p.fwd.dotfiles))
    if needs_git:
        steps.append(_ensure_git(run))
    steps.append(_dotfiles(run, p, args, failed_early))
    steps.append(_repos(run, p, args))
    if args.repo_url:
        steps.append(_try_repo(run, p, args))
    steps.append(_config_files(run))
    steps.append(_setup(run, args))
    if p.probe is not None:
        steps.append(p.probe)
    return steps


def _write_deferred(run: Runner) -> dict[str, str]:
    """Writes HOME's files that lie under a bind mount; marks their plan steps if one failed."""
    p = run.p
    if under(p.home, p.mount_targets) and not p.root:
        run.sh(f"mkdir -p -- {shlex.quote(p.home)}")
    if not p.deferred:
        return {}
    failed = _write(run, p.deferred)
    for entry in p.deferred:
        for step in p.steps:
            if entry.path in failed and step["step"] == entry.step:
                step["status"] = "failed"
                step["detail"] = f"{entry.path} not written: {failed[entry.path]}"
    return failed


def _write(run: Runner, entries: list[FileEntry]) -> dict[str, str]:
    p = run.p
    failed = write_late(
        run.ctx.require(Shell, "create with files under a mount"),
        run.cid,
        entries,
        mounts=p.mount_targets,
        owned_roots=[p.home, p.workdir],
        uid=p.uid or 0,
        gid=p.gid or 0,
    )
    return {k: redact(v, p.secrets.values()) for k, v in failed.items()}


def _config_files(run: Runner) -> dict[str, object]:
    entries = run.p.config_files
    if not entries:
        return _step("config_files", "skipped", "none given")
    failed = _write(run, entries)
    ok = len(entries) - len(failed)
    status = "success" if not failed else ("partial" if ok else "failed")
    detail = f"{ok}/{len(entries)} written byte-exact"
    if failed:
        detail += "; not written: " + "; ".join(f"{k}: {v}" for k, v in failed.items())
    return _step("config_files", status, detail)


def _ensure_git(run: Runner) -> dict[str, object]:
    if run.sh("command -v git >/dev/null").exit_code == 0:
        return _step("git_tool", "success", "git present")
    installed = run.sh(INSTALL_GIT, root=True)
    if installed.exit_code == 0:
        return _step("git_tool", "success", "installed git (needed by later steps)")
    return _step("git_tool", "failed", f"git missing and not installable: {run.why(installed)}")


def _dotfiles(
    run: Runner, p: Plan, args: CreateInput, failed_early: dict[str, str]
) -> dict[str, object]:
    if args.dotfiles_skip:
        return _step("dotfiles", "skipped", "dotfiles_skip: true")
    if not p.fwd.dotfiles:
        return _step("dotfiles", "skipped", "none given")
    done: list[str] = []
    inline = [f for f in p.files if f.step == "dotfiles"]
    written = [f for f in inline if f.path not in failed_early]
    if inline:
        done.append(f"{len(written)}/{len(inline)} inline file(s) written")
    if len(written) < len(inline):
        return _step("dotfiles", "partial", "; ".join(done))
    if args.dotfiles_repo:
        target = f"{p.home}/.dotfiles"
        clone = run.sh(
            f"git clone --depth 1 -- {shlex.quote(args.dotfiles_repo)} {shlex.quote(target)}",
            workdir=p.home,
        )
        if clone.exit_code != 0:
            return _step("dotfiles", "failed", f"clone failed: {run.why(clone)}")
        scripts = " ".join(shlex.quote(s) for s in DOTFILES_SCRIPTS)
        install = run.sh(
            f'for s in {scripts}; do if [ -f "$s" ]; then sh "$s"; exit $?; fi; done',
            workdir=target,
        )
        if install.exit_code != 0:
            return _step("dotfiles", "partial", f"repo cloned; install failed: {run.why(install)}")
        done.append("repo cloned and installed")
    if args.dotfiles_script:
        script = run.sh(args.dotfiles_script, workdir=p.home)
        if script.exit_code != 0:
            return _step(
                "dotfiles", "partial", f"script exit {script.exit_code}: {run.why(script)}"
            )
        done.append("script ran")
    return _step("dotfiles", "success" if done else "skipped", "; ".join(done) or "none given")


def _repos(run: Runner, p: Plan, args: CreateInput) -> dict[str, object]:
    if not args.repos:
        return _step("repos", "skipped", "none given")
    ok = 0
    failures: list[str] = []
    for repo in args.repos:
        name = repo.url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "repo"
        path = resolve_path(repo.path or name, p.home, p.workdir)
        branch = f"--branch {shlex.quote(repo.branch)} " if repo.branch else ""
        clone = run.sh(
            f"git clone {branch}-- {shlex.quote(repo.url)} {shlex.quote(path)}", workdir=p.workdir
        )
        if clone.exit_code != 0:
            failures.append(f"{run.shown(repo.url)}: {run.why(clone)}")
            continue
        if repo.install:
            inst = run.sh(repo.install, workdir=path)
            if inst.exit_code != 0:
                shown = run.shown(repo.install)
                failures.append(f"{shown!r} exit {inst.exit_code}: {run.why(inst)}")
                continue
        ok += 1
    status = "success" if not failures else ("partial" if ok else "failed")
    detail = f"{ok}/{len(args.repos)} cloned inside the container"
    return _step("repos", status, detail + ("; " + "; ".join(failures) if failures else ""))


def _try_repo(run: Runner, p: Plan, args: CreateInput) -> dict[str, object]:
    assert args.repo_url is not None  # noqa: S101 - checked by the caller
    clone = run.sh(f"git clone -- {shlex.quote(args.repo_url)} .", workdir=p.workdir)
    if clone.exit_code != 0:
        return _step("try_repo", "failed", f"clone failed: {run.why(clone)}")
    for rule in p.purpose.detect if p.purpose else []:
        found = run.sh(f"test -e {shlex.quote(rule.file)}", workdir=p.workdir)
        if found.exit_code == 0:
            setup = run.sh(rule.setup, workdir=p.workdir)
            status = "success" if setup.exit_code == 0 else "partial"
            detail = f"{rule.language} (found {rule.file}); setup: {rule.setup!r}"
            if setup.exit_code != 0:
                detail += f" exit {setup.exit_code}: {run.why(setup)}"
            return _step("try_repo", status, detail)
    return _step("try_repo", "partial", "cloned; no known language marker found")


def _setup(run: Runner, args: CreateInput) -> dict[str, object]:
    if not args.setup_commands:
        return _step("setup_commands", "skipped", "none given")
    total = len(args.setup_commands)
    failures: list[str] = []
    for command in args.setup_commands:
        result = run.sh(command, workdir=run.p.workdir)
        if result.exit_code != 0:
            shown = run.shown(command)
            failures.append(f"{shown!r} exited {result.exit_code}: {run.why(result)}")
    ok = total - len(failures)
    status = "success" if not failures else ("partial" if ok else "failed")
    detail = f"{ok}/{total} succeeded" + ("; failed: " + "; ".join(failures) if failures else "")
    return _step("setup_commands", status, detail)
