"""Per-create provisioning plan: image, env, secrets, files and mounts, decided up front.

The order create follows: HOME and its files first (provision.home), then the secrets file, git,
dotfiles, repos, config_files and setup_commands (provision.steps). Secrets (forwarded env values,
the GitHub token) are written only to a file on a tmpfs inside the container, so they are in no
container config, exec record, label, image, snapshot or result.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.errors import InvalidInputError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.provision import credentials as cred
from containers_tool.provision.credentials import secret_looking
from containers_tool.provision.files import FileEntry
from containers_tool.provision.images import ensure_purpose_image
from containers_tool.provision.purposes import Forward, Purpose
from containers_tool.runtime.capabilities import Layers
from containers_tool.runtime.types import MountSpec

ROOT_HOME = "/root"
USER_HOME = "/home/ct"
SSH_SOCKET = "/run/containers-tool-ssh/agent.sock"
DOTFILES_SCRIPTS = ("install.sh", "bootstrap.sh", "setup.sh", "script/bootstrap")
INSTALL_GIT = (
    "if command -v apt-get >/dev/null; then export DEBIAN_FRONTEND=noninteractive; "
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates "
    ">/dev/null; elif command -v apk >/dev/null; then apk add --no-cache git; "
    "elif command -v dnf >/dev/null; then dnf install -y -q git; else exit 127; fi"
)
#: Clone URLs git may run programs for (ext::) or that look like options are refused.
SAFE_URL = re.compile(r"^(?:https?://|ssh://|git://|file://|[\w.-]+@[\w.-]+:)[^\s]+$")
CONFIG_DIR_LIMIT = 5 * 2**20


@dataclass
class Plan:
    """What create will set up, decided before anything is made."""

    purpose: Purpose | None
    image: str | None
    cache_used: bool | None
    user: str
    uid: int | None
    gid: int | None
    home: str
    workdir: str
    fwd: Forward = field(default_factory=Forward)
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[MountSpec] = field(default_factory=list)
    #: Targets of every bind mount: files there are written after start, as the mapped user.
    mount_targets: list[str] = field(default_factory=list)
    #: HOME's files (git, ssh, dotfiles_inline, config_dirs), written first (provision.home).
    files: list[FileEntry] = field(default_factory=list)
    #: Files under a bind mount, held back from `files` until the container runs.
    deferred: list[FileEntry] = field(default_factory=list)
    #: config_files, written after repos are cloned (a clone needs its path empty).
    config_files: list[FileEntry] = field(default_factory=list)
    probe: dict[str, object] | None = None
    steps: list[dict[str, object]] = field(default_factory=list)
    image_key: str | None = None  # image id (or purpose tag) keying provision.home's cache
    image_id: str | None = None  # the image's id, when known (HOME layers are keyed by it)

    @property
    def root(self) -> bool:
        """Whether the mapped user is root."""
        return self.uid == 0


def _step(step: str, status: str, detail: str) -> dict[str, object]:
    return {"step": step, "status": status, "detail": detail}


def _ids(user: str) -> tuple[int | None, int | None]:
    uid, _, gid = user.partition(":")
    if not uid.isdigit():
        return (0, 0) if uid == "root" else (None, None)
    return int(uid), int(gid) if gid.isdigit() else int(uid)


def _forward(args: CreateInput, purpose: Purpose | None) -> Forward:
    # Without a purpose nothing is forwarded unless asked; a purpose brings its own defaults.
    # Explicit fields beat both, a dotfiles_* field included (even for clean and try-repo).
    base = purpose.forward if purpose else Forward(env="none", git=False, gh=False, dotfiles=False)
    explicit_dotfiles = bool(args.dotfiles_repo or args.dotfiles_inline or args.dotfiles_script)
    return Forward(
        env=args.env_passthrough if args.env_passthrough is not None else base.env,
        git=base.git if args.forward_git is None else args.forward_git,
        gh=base.gh if args.forward_gh is None else args.forward_gh,
        ssh=base.ssh if args.forward_ssh is None else args.forward_ssh,
        ca=base.ca,
        dotfiles=(explicit_dotfiles or base.dotfiles) and not args.dotfiles_skip,
    )


def resolve_path(path: str, home: str, workdir: str) -> str:
    """`~/x` is under HOME, a relative path under the workdir, an absolute one stays."""
    if path == "~" or path.startswith("~/"):
        joined = posixpath.join(home, path[2:])
    else:
        joined = posixpath.join(workdir, path)
    return posixpath.normpath(joined)


def _check_url(url: str, field_name: str) -> None:
    if not SAFE_URL.match(url):
        raise InvalidInputError(
            f"{field_name} {cred.redact_url(url)!r} is not a clone URL this tool accepts.",
            hint="Use https://, ssh://, git://, file:// or user@host:path.",
            field=field_name,
        )


def plan(ctx: Context, args: CreateInput, user: str, workdir: str) -> Plan:
    """Decides the image (building the purpose image once) and every file, env and label.

    `user` is "" for a service running as its image's own user.

    Raises:
        InvalidInputError: Unknown purpose, a missing repo_url, or a bad path or URL.
        BuildFailedError: The purpose image failed to build, or its probe failed.
    """
    purpose = ctx.purposes.get(args.purpose) if args.purpose else None
    if purpose is not None and args.amplifier_version:
        purpose = purpose.with_build_env(AMPLIFIER_VERSION=args.amplifier_version)
    if purpose and "repo_url" in purpose.requires and not args.repo_url:
        raise InvalidInputError(
            f"Purpose {purpose.name!r} needs repo_url.",
            hint="Pass repo_url with the repository to try.",
            field="repo_url",
        )
    for url, name in [
        (args.repo_url, "repo_url"),
        (args.dotfiles_repo, "dotfiles_repo"),
        *[(r.url, "repos") for r in args.repos],
    ]:
        if url:
            _check_url(url, name)
    uid, gid = _ids(user)
    home = ROOT_HOME if uid == 0 else USER_HOME
    fwd = _forward(args, purpose)
    out = Plan(purpose, None, None, user, uid, gid, home, workdir, fwd)
    if user:  # an image's own user (a service's) keeps the image's HOME
        out.env["HOME"] = home
    out.mount_targets = [posixpath.normpath(m.target) for m in args.mounts]
    if args.mount_cwd:
        out.mount_targets.append(posixpath.normpath(workdir))
    ca = None
    if args.forward_ca is True or (args.forward_ca == "auto" and fwd.ca):
        ca = cred.extra_ca_bundle() if args.forward_ca == "auto" else cred.host_ca_bundle()
    if purpose is not None and not args.image:
        built = ensure_purpose_image(
            ctx.runtime,
            ctx.settings,
            purpose,
            ca,
            cache_bust=args.cache_bust,
            on_line=ctx.on_build_line,
            want_id=ctx.capability(Layers) is not None,
        )
        out.image, out.cache_used = built.tag, built.cache_used
        # Just built: read its files. The id, where known, also tells a rebuilt tag apart.
        out.image_key = (built.id or built.tag) if built.cache_used else None
        out.image_id = built.id or None
        detail = (
            f"{built.tag} (cached)"
            if built.cache_used
            else f"built {built.tag} in {built.build_ms} ms ({built.steps} steps)"
        )
        out.steps.append(_step("image", "success", detail))
        out.probe = (
            _step("probe", "skipped", "passed in a fresh container when this image was built")
            if built.cache_used
            else _step("probe", "success", "passed in a fresh container of the new image")
        )
    elif purpose is not None:
        out.probe = _step("probe", "skipped", "explicit image: the purpose's probe was not run")
    if purpose is not None:
        out.labels[lb.PURPOSE] = purpose.name
    _plan_env(out, fwd, args)
    _plan_ca(out, ca, ctx.runtime.remote)
    _plan_git(out, fwd)
    _plan_gh(out, fwd)
    _plan_ssh(out, fwd, ctx.runtime.remote)
    _plan_files(out, args, fwd)
    return out


def _plan_env(out: Plan, fwd: Forward, args: CreateInput) -> None:
    chosen, skipped = cred.choose_env(fwd.env)
    if not fwd.gh and not isinstance(fwd.env, list):
        # forward_gh: false means no GitHub token, even one that "auto" would match.
        dropped = [k for k in cred.GH_VARS if chosen.pop(k, None) is not None]
        skipped += [f"{k} (forward_gh is off)" for k in dropped]
    out.secrets.update(chosen)
    for name in args.env:
        out.secrets.pop(name, None)  # an explicit env value beats a forwarded one
    names = sorted(out.secrets)
    if names:
        out.labels[lb.FORWARDED_ENV] = ",".join(names)[:4000]
    detail = f"forwarded {len(names)}: {', '.join(names)}" if names else "nothing to forward"
    detail += f" (mode {fwd.env!r})" if not names and not isinstance(fwd.env, list) else ""
    if skipped:
        detail += f"; skipped {len(skipped)}: {', '.join(skipped)}"
    out.steps.append(_step("env", "success" if names else "skipped", detail[:2000]))


def _plan_ca(out: Plan, ca: Path | None, remote: bool) -> None:
    if ca is None:
        out.steps.append(_step("ca", "skipped", "no extra CA trusted on the host"))
        return
    if remote:  # a bind would name a path on the engine's machine: the bundle goes in by copy
        out.files.append(FileEntry(cred.CA_PATH, ca.read_bytes(), 0o644, False, step="ca"))
    else:  # read-only bind: no copy per create, and the host's CA updates show through
        out.mounts.append(MountSpec(str(ca.resolve()), cred.CA_PATH, True))
    out.env.update(cred.ca_env())
    out.steps.append(_step("ca", "success", f"{ca} -> {cred.CA_PATH}; SSL_CERT_FILE etc. set"))


def _plan_git(out: Plan, fwd: Forward) -> None:
    text = cred.git_config_text(ssh=fwd.ssh) if fwd.git else None
    gh = fwd.gh and cred.gh_token() is not None
    if gh:
        # The helper reads the token from the environment at use: the file holds no secret.
        helper = '!f() { echo username=x-access-token; echo "password=$GH_TOKEN"; }; f'
        text = (text or "") + f'[credential "https://github.com"]\n\thelper = "{helper}"\n'
    if text:
        out.files.append(FileEntry(f"{out.home}/.gitconfig", text.encode(), 0o644, step="git"))
    if fwd.git and text:
        extra = " and the GitHub credential helper" if gh else ""
        out.steps.append(_step("git", "success", f"~/.gitconfig from the host's config{extra}"))
    elif text:
        detail = "forward_git off; ~/.gitconfig written with only the GitHub credential helper"
        out.steps.append(_step("git", "skipped", detail))
    else:
        detail = "not requested" if not fwd.git else "no git config on the host"
        out.steps.append(_step("git", "skipped", detail))


def _plan_gh(out: Plan, fwd: Forward) -> None:
    token = cred.gh_token() if fwd.gh else None
    if token is None:
        detail = "not requested" if not fwd.gh else "no GitHub token on the host"
        out.steps.append(_step("gh", "skipped", detail))
        return
    out.secrets["GH_TOKEN"] = token
    out.labels[lb.FORWARDED_ENV] = ",".join(sorted(out.secrets))[:4000]
    detail = "GH_TOKEN in the secrets file; a ~/.gitconfig credential helper uses it for github"
    out.steps.append(_step("gh", "success", detail))


def _plan_ssh(out: Plan, fwd: Forward, remote: bool) -> None:
    sock = os.environ.get("SSH_AUTH_SOCK")
    if not fwd.ssh:
        out.steps.append(_step("ssh", "skipped", "not requested (forward_ssh: true opts in)"))
        return
    if remote or not sock or not Path(sock).exists():  # a socket cannot be copied to a remote
        why = "the engine is remote: no agent there" if remote else "no SSH agent on the host"
        out.steps.append(_step("ssh", "skipped", f"{why}; keys are never copied"))
        return
    # Read-only: a socket needs no write access, and nothing inside can replace the socket file.
    out.mounts.append(MountSpec(sock, SSH_SOCKET, True))
    out.env["SSH_AUTH_SOCK"] = SSH_SOCKET
    known = Path.home() / ".ssh" / "known_hosts"
    if known.is_file():
        entry = FileEntry(f"{out.home}/.ssh/known_hosts", known.read_bytes(), 0o644, step="ssh")
        out.files.append(entry)
    out.steps.append(_step("ssh", "success", f"agent socket at {SSH_SOCKET}; no keys copied"))


def _plan_files(out: Plan, args: CreateInput, fwd: Forward) -> None:
    for rel, content in args.dotfiles_inline.items() if fwd.dotfiles else ():
        path = resolve_path(rel if rel.startswith("~") else f"~/{rel}", out.home, out.workdir)
        _inside(path, out.home, "dotfiles_inline")
        out.files.append(FileEntry(path, content.encode(), 0o644, step="dotfiles"))
    for raw, content in args.config_files.items():
        path = resolve_path(raw, out.home, out.workdir)
        if path in ("/", out.home, out.workdir) or path.startswith(("/proc", "/sys", "/dev")):
            raise InvalidInputError(
                f"config_files path {raw!r} is not a file path.",
                hint="Give a file path such as ~/.config/app.toml or /etc/app.conf.",
                field="config_files",
            )
        out.config_files.append(FileEntry(path, content.encode(), 0o644, step="config_files"))
    if out.purpose is not None and out.purpose.config_dirs:
        notes = [
            copy_host_dir(out, Path.home() / folder, f"{out.home}/{folder}", f"~/{folder}")
            for folder in out.purpose.config_dirs
        ]
        copied = any(f.step == "config_dirs" for f in out.files)
        out.steps.append(_step("config_dirs", "success" if copied else "skipped", "; ".join(notes)))


def _inside(path: str, root: str, field_name: str) -> None:
    if not PurePosixPath(path).is_relative_to(root) or path == root:
        raise InvalidInputError(
            f"{field_name} path {path!r} leaves {root}.",
            hint="Use paths under HOME.",
            field=field_name,
        )


def copy_host_dir(
    out: Plan, source: Path, target: str, shown: str, limit: int = CONFIG_DIR_LIMIT
) -> str:
    """Plans copies of a host settings directory into HOME, leaving out secret-looking files.

    Returns:
        One line for the report: what was copied and what was left out, by name only.
    """
    if not source.is_dir():
        return f"{shown}: not on the host"
    total = 0
    copied: list[str] = []
    secret: list[str] = []
    over: list[str] = []
    links: list[str] = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source).as_posix()
        if path.is_symlink():
            links.append(rel)
        elif not path.is_file():
            continue
        elif secret_looking(rel):
            secret.append(rel)
        elif total + path.stat().st_size > limit:
            over.append(rel)
        else:
            total += path.stat().st_size
            out.files.append(
                FileEntry(f"{target}/{rel}", path.read_bytes(), 0o600, step="config_dirs")
            )
            copied.append(rel)
    note = f"{shown}: copied {len(copied)} file(s) ({total} bytes)"
    note += f": {_names(copied)}" if copied else ""
    for label, names in (
        ("left out as secret-looking", secret),
        (f"left out over the {limit // 2**20} MB limit", over),
        ("left out as symlinks", links),
    ):
        if names:
            note += f"; {label}: {_names(names)}"
    return note


def _names(names: Sequence[str], shown: int = 20) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


#: Sources the forwarded-secrets file, then runs the argv untouched ("$@": no re-quoting).
ENV_WRAPPER = f'[ -r {lb.ENVFILE_PATH} ] && . {lb.ENVFILE_PATH}; exec "$@"'


def wrap_argv(envfile: bool, argv: Sequence[str]) -> list[str]:
    """Returns argv, run through the env-file wrapper when the container has forwarded secrets.

    Secret values live only in a tmpfs file inside the container, so every exec (and session
    shell) must read them from there; containers without one run argv directly.
    """
    if not envfile:
        return list(argv)
    return ["/bin/sh", "-c", ENV_WRAPPER, "containers-tool", *argv]


def env_file(secrets: dict[str, str]) -> str:
    """The secrets file: `export NAME='value'` lines, values shell-quoted; bad names left out."""
    return "".join(
        f"export {k}={shlex.quote(v)}\n"
        for k, v in sorted(secrets.items())
        if cred.SHELL_NAME.match(k)
    )
