"""What to forward from the host (env keys, git, gh, ssh agent, CA bundle), and redaction."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Literal

#: Variable names "auto" forwards: API keys, tokens and secrets of common services.
AUTO_PATTERNS = re.compile(
    r"^(?:.*_API_KEY|.*_API_TOKEN|.*_TOKEN|.*_SECRET|.*_SECRET_KEY|.*_ACCESS_KEY(?:_ID)?"
    r"|OPENAI_.*|ANTHROPIC_.*|GEMINI_.*|MISTRAL_.*|GROQ_.*|AZURE_OPENAI_.*|HF_.*TOKEN)$"
)
#: Never forwarded by "auto": passwords are not API credentials an agent should carry.
AUTO_EXCLUDE = re.compile(r"PASSWORD|PASSWD|PASSPHRASE")
#: Host-specific variables that make no sense inside a container, even with "all".
HOST_ONLY = re.compile(
    r"^(?:PATH|HOME|PWD|OLDPWD|SHELL|USER|LOGNAME|HOSTNAME|TERM|TERMCAP|DISPLAY|SHLVL|_|TMPDIR"
    r"|SSH_AUTH_SOCK|SSH_AGENT_PID|SSH_CONNECTION|SSH_CLIENT|SSH_TTY|LD_.*|PYTHON.*|VIRTUAL_ENV"
    r"|XDG_.*|DBUS_.*|LS_COLORS|MAIL|CONTAINERS_TOOL_.*|DOCKER_.*|CONTAINER_HOST)$"
)
#: Host CA paths, never forwarded: forward_ca points them at the bundle inside instead, and a
#: host path would break TLS there.
CA_HOST_VARS = frozenset(
    {
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "PIP_CERT",
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
        "CARGO_HTTP_CAINFO",
    }
)
#: Names a POSIX shell can export; others (bash's BASH_FUNC_f%%) break the sourced env file.
SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: GitHub tokens: forwarded only with forward_gh, whatever env_passthrough says.
GH_VARS = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
#: The places where a host keeps a CA bundle, in order of preference.
CA_ENV_VARS = (
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "PIP_CERT",
)
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)
#: Where a forwarded bundle lives in containers and images, and the variables pointed at it.
CA_PATH = "/usr/local/share/containers-tool/ca-bundle.crt"
CA_TARGET_VARS = (
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "PIP_CERT",
    "GIT_SSL_CAINFO",
    "CARGO_HTTP_CAINFO",
)
#: Git settings that point at host programs, carry credentials or need the host's signing
#: keys: never forwarded.
GIT_SKIP = re.compile(
    r"^(?:credential\..*|include\..*|includeif\..*|core\.sshcommand|gpg\..*"
    r"|.*\.helper|core\.hookspath|core\.editor|core\.pager|http\..*\.extraheader"
    r"|commit\.gpgsign|tag\.gpgsign|tag\.forcesignannotated|push\.gpgsign|user\.signingkey)$"
)
#: url.<base>.insteadOf rewrites to SSH: without the agent forwarded they break every fetch.
SSH_URL = re.compile(r"^(?:ssh://|git\+ssh://|ssh\+git://|[\w.-]+@[\w.-]+:)")

#: Sections of a forwarded git config that hold identity and preferences, never a credential.
PLAIN_GIT_SECTIONS = frozenset(
    {
        "user", "core", "init", "alias", "pull", "push", "fetch", "merge", "diff", "color",
        "rebase", "advice", "help", "log", "status", "format", "rerere", "column", "commit",
        "safe", "branch",
    }
)  # fmt: skip

EnvMode = Literal["auto", "none", "all"] | list[str]


def select_env(mode: EnvMode, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Returns the host variables `mode` forwards (see choose_env)."""
    return choose_env(mode, environ)[0]


def choose_env(
    mode: EnvMode, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Returns the host variables `mode` forwards, and the names it left out and why.

    Only shell variable names are forwarded: the values are exported from a file every exec
    sources, where one bad name would break every command.

    Args:
        mode: "auto" (API keys/tokens/secrets, not passwords), "none", "all", or a list of names.
        environ: The host environment (default os.environ).

    Returns:
        (name -> value, ["NAME (reason)", ...]); reasons are for names a caller would expect.
    """
    env = dict(os.environ if environ is None else environ)
    if mode == "none":
        return {}, []
    if isinstance(mode, list):
        wanted = {k: env[k] for k in mode if k in env}
    elif mode == "all":
        wanted = {k: v for k, v in env.items() if not _host_only(k)}
    else:
        wanted = {
            k: v
            for k, v in env.items()
            if AUTO_PATTERNS.match(k) and not AUTO_EXCLUDE.search(k) and not _host_only(k)
        }
    skipped = [
        f"{k} (not a shell variable name)" for k in sorted(wanted) if not SHELL_NAME.match(k)
    ]
    if mode == "all":
        skipped += [f"{k} (host CA path; see forward_ca)" for k in sorted(env) if k in CA_HOST_VARS]
    return {k: v for k, v in wanted.items() if SHELL_NAME.match(k)}, skipped


def _host_only(name: str) -> bool:
    return name in CA_HOST_VARS or bool(HOST_ONLY.match(name))


def host_ca_bundle(environ: Mapping[str, str] | None = None) -> Path | None:
    """Returns the host's CA bundle: the first CA variable that names a file, else the system's."""
    env = os.environ if environ is None else environ
    for var in CA_ENV_VARS:
        value = env.get(var)
        if value and Path(value).is_file():
            return Path(value)
    for path in SYSTEM_BUNDLES:
        if Path(path).is_file():
            return Path(path)
    return None


def extra_ca_bundle(environ: Mapping[str, str] | None = None) -> Path | None:
    """Returns the host's bundle when the host trusts CAs beyond the public ones, else None.

    A CA variable naming a file counts; so does a system bundle holding a certificate that
    certifi's public bundle lacks (a TLS-intercepting proxy's CA, a company root).
    """
    env = os.environ if environ is None else environ
    if any(env.get(v) and Path(env[v]).is_file() for v in CA_ENV_VARS):
        return host_ca_bundle(env)
    system = next((Path(p) for p in SYSTEM_BUNDLES if Path(p).is_file()), None)
    if system is None:
        return None
    try:
        import certifi
    except ImportError:
        return system
    public = set(_pem_blocks(Path(certifi.where()).read_text(encoding="utf-8", errors="ignore")))
    own = _pem_blocks(system.read_text(encoding="utf-8", errors="ignore"))
    return system if any(block not in public for block in own) else None


def _pem_blocks(text: str) -> list[str]:
    return re.findall(r"-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----", text)


def ca_env() -> dict[str, str]:
    """Returns the variables that point the usual tools at a forwarded bundle."""
    return dict.fromkeys(CA_TARGET_VARS, CA_PATH)


def git_config_text(ssh: bool = False) -> str | None:
    """Returns the host's effective global git config (includes resolved) as a gitconfig file.

    Credential helpers, hooks, signing and host program paths are left out; so are URL
    rewrites to SSH unless the SSH agent is forwarded too.

    Args:
        ssh: Whether the container gets the host's SSH agent (forward_ssh).
    """
    git = shutil.which("git")
    if git is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [git, "config", "--global", "--includes", "--list", "-z"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0 or not out.stdout:
        return None
    sections: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
    for entry in out.stdout.decode("utf-8", "replace").split("\0"):
        key, _, value = entry.partition("\n")
        if not key or GIT_SKIP.match(key.lower()):
            continue
        section, _, rest = key.partition(".")
        sub, _, name = rest.rpartition(".")
        rewrite = section.lower() == "url" and name.lower() in ("insteadof", "pushinsteadof")
        if rewrite and not ssh and SSH_URL.match(sub):
            continue
        sections.setdefault((section, sub or None), []).append((name, value))
    return _gitconfig(sections.items())


def plain_git_config(text: str) -> bool:
    """Tells whether a forwarded git config holds only identity and preferences.

    Such a file may be kept in a cached image (provision/layers.py). Every section must be one
    of PLAIN_GIT_SECTIONS and no line may name a URL: rewrites, remotes and http settings can
    carry a user part or a token, and stay out of every image.
    """
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "://" in stripped:
            return False
        if stripped.startswith("["):
            section = re.split(r'[\s."\]]', stripped[1:], maxsplit=1)[0].lower()
            if section not in PLAIN_GIT_SECTIONS:
                return False
    return True


def _gitconfig(items: Iterable[tuple[tuple[str, str | None], list[tuple[str, str]]]]) -> str:
    lines = ["# forwarded by containers-tool from the host's effective git config"]
    for (section, sub), pairs in items:
        quoted = sub.replace("\\", "\\\\").replace('"', '\\"') if sub else None
        lines.append(f'[{section} "{quoted}"]' if quoted is not None else f"[{section}]")
        for name, value in pairs:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            lines.append(f'\t{name} = "{escaped}"')
    return "\n".join(lines) + "\n"


def gh_token(environ: Mapping[str, str] | None = None) -> str | None:
    """Returns the host's GitHub token: GH_TOKEN/GITHUB_TOKEN, else `gh auth token`."""
    env = os.environ if environ is None else environ
    for var in ("GH_TOKEN", "GITHUB_TOKEN"):
        if env.get(var):
            return env[var]
    gh = shutil.which("gh")
    if gh is None:
        return None
    try:
        out = subprocess.run([gh, "auth", "token"], capture_output=True, timeout=10, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return None
    token = out.stdout.decode().strip()
    return token if out.returncode == 0 and token else None


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replaces every secret value (of 4+ characters) in `text` with a marker."""
    for value in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, "[redacted]")
    return text


#: Credentials in URLs: any userinfo of http(s) URLs (a bare token counts), and passwords of others.
_HTTP_USERINFO = re.compile(r"(?i)\b(https?://)[^/@\s]+@")
_URL_PASSWORD = re.compile(r"(\b[a-z][\w+.-]*://[^/@\s:]*):[^/@\s]+@", re.IGNORECASE)


def redact_url(text: str) -> str:
    """Replaces credentials embedded in URLs (https://user:token@host) with a marker."""
    text = _HTTP_USERINFO.sub(r"\1[redacted]@", text)
    return _URL_PASSWORD.sub(r"\1:[redacted]@", text)


#: Files a purpose's config_dirs never copies: keys and tokens would land in HOME, and so in
#: every snapshot. Forward credentials through env_passthrough instead.
SECRET_NAMES = (
    "keys.*",
    "*.key",
    "*token*",
    "*secret*",
    "*password*",
    "credentials*",
    ".env",
    ".env.*",
    "*.pem",
    "*.p12",
    "*.pfx",
    "id_*",
    ".netrc",
)


def secret_looking(rel: str) -> bool:
    """Tells whether any part of a relative path names a key, token or credentials file."""
    parts = PurePosixPath(rel.lower()).parts
    return any(fnmatch.fnmatch(part, pat) for part in parts for pat in SECRET_NAMES)
