"""Per-create provisioning, in a correct order: files before PID 1 starts, then commands.

Secrets (forwarded env values, the GitHub token) are written only to a file on a tmpfs inside
the container, so they are in no container config, label, image, snapshot or result.
"""

from __future__ import annotations

import io
import posixpath
import re
import shlex
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from containers_tool import credentials as cred
from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.errors import InvalidInputError
from containers_tool.images import ensure_purpose_image
from containers_tool.models import CreateInput
from containers_tool.provision_files import FileEntry
from containers_tool.purposes import Forward, Purpose
from containers_tool.runtime.base import MountSpec

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
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[MountSpec] = field(default_factory=list)
    tmpfs: dict[str, str] = field(default_factory=dict)
    files: list[FileEntry] = field(default_factory=list)
    steps: list[dict[str, object]] = field(default_factory=list)


def _step(step: str, status: str, detail: str) -> dict[str, object]:
    return {"step": step, "status": status, "detail": detail}


def _ids(user: str) -> tuple[int | None, int | None]:
    uid, _, gid = user.partition(":")
    if not uid.isdigit():
        return None, None
    return int(uid), int(gid) if gid.isdigit() else int(uid)


def _forward(args: CreateInput, purpose: Purpose | None) -> Forward:
    # Without a purpose nothing is forwarded unless asked; a purpose brings its own defaults.
    base = purpose.forward if purpose else Forward(env="none", git=False, gh=False, dotfiles=False)
    return Forward(
        env=args.env_passthrough if args.env_passthrough is not None else base.env,
        git=base.git if args.forward_git is None else args.forward_git,
        gh=base.gh if args.forward_gh is None else args.forward_gh,
        ssh=base.ssh if args.forward_ssh is None else args.forward_ssh,
        ca=base.ca,
        dotfiles=base.dotfiles and not args.dotfiles_skip,
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
            f"{field_name} {url!r} is not a clone URL this tool accepts.",
            hint="Use https://, ssh://, git://, file:// or user@host:path.",
            field=field_name,
        )


def plan(ctx: Context, args: CreateInput, user: str, workdir: str) -> Plan:
    """Decides the image (building the purpose image once) and every file, env and label.

    `user` is "" for a service running as its image's own user.

    Raises:
        InvalidInputError: Unknown purpose, a missing repo_url, or a bad path or URL.
        BuildFailedError: The purpose image failed to build.
    """
    purpose = ctx.purposes.get(args.purpose) if args.purpose else None
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
    home = ROOT_HOME if uid == 0 or user in ("root", "0") else USER_HOME
    fwd = _forward(args, purpose)
    out = Plan(purpose, None, None, user, uid, gid, home, workdir)
    if user:  # an image's own user (a service's) keeps the image's HOME
        out.env["HOME"] = home
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
        )
        out.image, out.cache_used = built.tag, built.cache_used
        detail = (
            f"{built.tag} (cached)"
            if built.cache_used
            else f"built {built.tag} in {built.build_ms} ms ({built.steps} steps)"
        )
        out.steps.append(_step("image", "success", detail))
    if purpose is not None:
        out.labels[lb.PURPOSE] = purpose.name
    _plan_env(out, fwd, args)
    _plan_ca(out, ca)
    _plan_git(out, fwd)
    _plan_gh(out, fwd)
    _plan_ssh(out, fwd)
    _plan_files(out, args, fwd)
    return out


def _plan_env(out: Plan, fwd: Forward, args: CreateInput) -> None:
    out.secrets.update(cred.select_env(fwd.env))
    for name in args.env:
        out.secrets.pop(name, None)  # an explicit env value beats a forwarded one
    if out.secrets:
        names = sorted(out.secrets)
        out.labels[lb.FORWARDED_ENV] = ",".join(names)[:4000]
        out.steps.append(_step("env", "success", f"forwarded {len(names)}: {', '.join(names)}"))
    else:
        out.steps.append(_step("env", "skipped", f"nothing to forward (mode {fwd.env!r})"))


def _plan_ca(out: Plan, ca: Path | None) -> None:
    if ca is None:
        out.steps.append(_step("ca", "skipped", "no extra CA trusted on the host"))
        return
    # A read-only bind mount: no copy per create, and the host's CA updates show through.
    out.mounts.append(MountSpec(str(ca.resolve()), cred.CA_PATH, True))
    out.env.update(cred.ca_env())
    out.steps.append(_step("ca", "success", f"{ca} -> {cred.CA_PATH}; SSL_CERT_FILE etc. set"))


def _plan_git(out: Plan, fwd: Forward) -> None:
    text = cred.git_config_text() if fwd.git else None
    gh = fwd.gh and cred.gh_token() is not None
    if gh:
        # The helper reads the token from the environment at use: the file holds no secret.
        helper = '!f() { echo username=x-access-token; echo "password=$GH_TOKEN"; }; f'
        text = (text or "") + f'[credential "https://github.com"]\n\thelper = "{helper}"\n'
    if text:
        out.files.append(FileEntry(f"{out.home}/.gitconfig", text.encode(), 0o644))
        status = "success" if fwd.git else "skipped"
        out.steps.append(
            _step(
                "git",
                status,
                "~/.gitconfig from the host's effective config" if fwd.git else "not requested",
            )
        )
    else:
        out.steps.append(
            _step("git", "skipped", "not requested" if not fwd.git else "no git config on the host")
        )


def _plan_gh(out: Plan, fwd: Forward) -> None:
    token = cred.gh_token() if fwd.gh else None
    if token is None:
        detail = "not requested" if not fwd.gh else "no GitHub token on the host"
        out.steps.append(_step("gh", "skipped", detail))
        return
    out.secrets["GH_TOKEN"] = token
    out.labels[lb.FORWARDED_ENV] = ",".join(sorted(out.secrets))[:4000]
    out.steps.append(_step("gh", "success", "GH_TOKEN in the secrets file; git uses it for github"))


def _plan_ssh(out: Plan, fwd: Forward) -> None:
    import os

    sock = os.environ.get("SSH_AUTH_SOCK")
    if not fwd.ssh:
        out.steps.append(_step("ssh", "skipped", "not requested (forward_ssh: true opts in)"))
        return
    if not sock or not Path(sock).exists():
        out.steps.append(_step("ssh", "skipped", "no SSH agent on the host; keys are never copied"))
        return
    # Read-only: connecting to a socket needs no write access to the mount, and nothing can
    # replace the socket file from inside.
    out.mounts.append(MountSpec(sock, SSH_SOCKET, True))
    out.env["SSH_AUTH_SOCK"] = SSH_SOCKET
    known = Path.home() / ".ssh" / "known_hosts"
    if known.is_file():
        out.files.append(FileEntry(f"{out.home}/.ssh/known_hosts", known.read_bytes(), 0o644))
    out.steps.append(_step("ssh", "success", f"agent socket at {SSH_SOCKET}; no keys copied"))


def _plan_files(out: Plan, args: CreateInput, fwd: Forward) -> None:
    for rel, content in args.dotfiles_inline.items() if fwd.dotfiles else ():
        path = resolve_path(rel if rel.startswith("~") else f"~/{rel}", out.home, out.workdir)
        _inside(path, out.home, "dotfiles_inline")
        out.files.append(FileEntry(path, content.encode(), 0o644))
    for raw, content in args.config_files.items():
        path = resolve_path(raw, out.home, out.workdir)
        if path in ("/", out.home, out.workdir) or path.startswith(("/proc", "/sys", "/dev")):
            raise InvalidInputError(
                f"config_files path {raw!r} is not a file path.",
                hint="Give a file path such as ~/.config/app.toml or /etc/app.conf.",
                field="config_files",
            )
        out.files.append(FileEntry(path, content.encode(), 0o644))
    if out.purpose is not None:
        for folder in out.purpose.config_dirs:
            _copy_host_dir(out, Path.home() / folder, f"{out.home}/{folder}")
    n = len(args.config_files)
    out.steps.append(
        _step(
            "config_files",
            "success" if n else "skipped",
            f"{n} file(s) written byte-exact" if n else "none given",
        )
    )


def _inside(path: str, root: str, field_name: str) -> None:
    if not PurePosixPath(path).is_relative_to(root) or path == root:
        raise InvalidInputError(
            f"{field_name} path {path!r} leaves {root}.",
            hint="Use paths under HOME.",
            field=field_name,
        )


def _copy_host_dir(out: Plan, source: Path, target: str, limit: int = 5 * 2**20) -> None:
    if not source.is_dir():
        return
    total = 0
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            if total > limit:
                break
            rel = path.relative_to(source).as_posix()
            out.files.append(FileEntry(f"{target}/{rel}", path.read_bytes(), 0o600))


def before_start(ctx: Context, cid: str, p: Plan) -> None:
    """Writes HOME, passwd entry, CA bundle, git config and files in one archive, before PID 1."""
    if p.uid not in (None, 0):
        passwd = _read_file(ctx, cid, "/etc/passwd")
        if passwd is not None and not _has_uid(passwd, p.uid):
            line = f"ct:x:{p.uid}:{p.gid}:containers-tool user:{p.home}:/bin/sh\n"
            sep = b"" if passwd.endswith(b"\n") or not passwd else b"\n"
            p.files.append(FileEntry("/etc/passwd", passwd + sep + line.encode(), 0o644, False))
    if not p.files and p.uid in (None, 0):
        return
    ctx.runtime.put_archive(cid, "/", _archive(p))


def _has_uid(passwd: bytes, uid: int | None) -> bool:
    return any(line.split(b":")[2:3] == [str(uid).encode()] for line in passwd.splitlines())


def _read_file(ctx: Context, cid: str, path: str) -> bytes | None:
    try:
        data = b"".join(ctx.runtime.get_archive(cid, path))
    except Exception:  # noqa: BLE001 - an image without the file simply has none
        return None
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        handle = tar.extractfile(member) if member else None
        return handle.read() if handle else None


def _archive(p: Plan) -> bytes:
    """One tar at /: files, and directories under HOME/workdir owned by the mapped user."""
    buf = io.BytesIO()
    dirs: set[str] = set()
    own_roots = [p.home] if p.uid not in (None, 0) else []
    now = int(time.time())
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add_dir(path: str, owned: bool = True) -> None:
            if path in dirs:
                return
            dirs.add(path)
            info = tarfile.TarInfo(path.strip("/"))
            info.type, info.mode = tarfile.DIRTYPE, 0o700 if path.endswith("/.ssh") else 0o755
            info.uid, info.gid = (p.uid or 0, p.gid or 0) if owned else (0, 0)
            info.mtime = now
            tar.addfile(info)

        if own_roots:
            # Engines create a missing parent with the child's owner: say /home is root's.
            add_dir(posixpath.dirname(p.home), owned=False)
        for root in own_roots:
            add_dir(root)
        for entry in p.files:
            for root in (p.home, p.workdir):
                if entry.owned and p.uid not in (None, 0) and entry.path.startswith(root + "/"):
                    parts = PurePosixPath(entry.path).relative_to(root).parts[:-1]
                    for i in range(len(parts)):
                        add_dir(posixpath.join(root, *parts[: i + 1]))
            info = tarfile.TarInfo(entry.path.strip("/"))
            info.size, info.mode, info.mtime = len(entry.content), entry.mode, now
            if entry.owned:
                info.uid, info.gid = p.uid or 0, p.gid or 0
            tar.addfile(info, io.BytesIO(entry.content))
    return buf.getvalue()


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
    """The secrets file: `export NAME='value'` lines, values shell-quoted."""
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(secrets.items()))
