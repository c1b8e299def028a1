"""Label keys that mark what the tool made; the engine is the only record of it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from containers_tool.errors import InvalidInputError

PREFIX = "io.containers-tool."
MANAGED_BY = PREFIX + "managed-by"
SESSION = PREFIX + "session"
#: The tenant an object belongs to; another tenant's objects are invisible (not_found).
TENANT = PREFIX + "tenant"
#: The agent an auto container was made for (resolve_agent finds it again by this and TENANT).
AGENT = PREFIX + "agent"
PURPOSE = PREFIX + "purpose"
PERSISTENT = PREFIX + "persistent"
CREATED = PREFIX + "created"
#: The directory a container's execs and shells start in. On Podman a keep-alive container's
#: engine WorkingDir may be its image's instead (see core/create.py), so this label is the truth.
WORKDIR = PREFIX + "workdir"
#: The image the caller asked for, when the engine runs one derived from it (provision/layers.py).
IMAGE = PREFIX + "image"
#: "true" when forwarded secrets live in the container's tmpfs env file (see provision.py).
ENVFILE = PREFIX + "envfile"
#: Names of the (non-secret) variables the tool itself set: CA paths, HOME.
TOOL_ENV = PREFIX + "tool-env"
#: Comma-separated names (never values) of the forwarded variables.
FORWARDED_ENV = PREFIX + "forwarded-env"
#: The tool's tmpfs in every container create makes: the env file and background jobs live there,
#: so neither is in any image, snapshot or inspect output.
ENVFILE_DIR = "/run/containers-tool"
ENVFILE_PATH = ENVFILE_DIR + "/env"
MANAGER = "containers-tool"
#: The tenant of objects made before tenants existed, and of a tool whose settings name none.
DEFAULT_TENANT = "default"
#: Seconds without activity after which the container is removed; absent or "0": never. Fixed at
#: create (expires_after, else the creator's idle_timeout), so no other process shortens it.
IDLE_TIMEOUT = PREFIX + "idle-timeout"
#: The process whose session owns an ephemeral container: host, boot id, pid, pid start time
#: (see core/owner.py). When it dies without ending its session, the reaper removes the container.
OWNER_HOST = PREFIX + "owner-host"
OWNER_BOOT = PREFIX + "owner-boot"
OWNER_PID = PREFIX + "owner-pid"
OWNER_START = PREFIX + "owner-start"

# Keys of the features built on the engine record: networks, compose, images, snapshots, users.
#: The label holding the default user of execs (uid:gid or a name).
EXEC_USER_LABEL = PREFIX + "exec-user"
SNAPSHOT = PREFIX + "snapshot"
SNAPSHOT_OF = PREFIX + "snapshot-of"
STRIPPED_ENV = PREFIX + "stripped-env"
#: The primary container a sidecar, compose service, stack network or volume belongs to.
ATTACHED_TO = PREFIX + "attached-to"
#: Marks what the tool made on behalf of a primary container (port sidecars, compose services,
#: stack networks and volumes). They lack MANAGED_BY, so `list` does not show them; with
#: ATTACHED_TO and SESSION this finds leftovers whose primary is gone (see `sweep_orphans`).
MEMBER = PREFIX + "member"
#: Marks the one private network of a session.
SESSION_NETWORK = PREFIX + "session-network"
#: Marks a port-forwarding sidecar and the port it forwards.
FORWARDS = PREFIX + "forwards"
DEFAULT_MARK = PREFIX + "default-network"
COMPOSE_PROJECT = PREFIX + "compose-project"
COMPOSE_SERVICE = PREFIX + "compose-service"
COMPOSE_NETWORK = PREFIX + "compose-network"
CACHE_LABEL = PREFIX + "purpose-cache"
#: The run id of a one-shot `run` container, and when (epoch seconds) its keep-alive ends.
RUN_ID = PREFIX + "run-id"
RUN_DEADLINE = PREFIX + "run-deadline"
KEY_LABEL = PREFIX + "cache-key"

#: Names of warm-pool containers waiting to be taken (core/pool.py): hidden, never resolved.
POOL_PREFIX = "ct-pool-"

# Input patterns: every name the tool puts in a label, a filter or a path matches one.
#: Container, network and snapshot names.
NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"
#: Tool session ids (label values and list filters).
SESSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: Tenant names: lowercase, since they go into network names and lock file names.
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
#: Agent names (bind_agent, resolve_agent); they go into labels and container names.
AGENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
#: Persistent shell names (exec session=).
SHELL_SESSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
#: Background job ids.
JOB_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
#: Network aliases.
ALIAS_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"
#: Paths given in provisioning fields: no NUL, bounded.
PATH_PATTERN = r"^[^\x00]{1,512}$"
#: An image reference as both engines parse it: [host[:port]/]path[:tag][@digest], the path
#: lowercase. Checked before an engine sees it (Docker and Podman word its errors apart).
IMAGE_PATTERN = (
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
#: Run ids (returned by run).
RUN_ID_PATTERN = r"^r-[a-f0-9]{12}$"
#: Purpose names (file names under purposes/).
PURPOSE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,40}$"

_SESSION_RE = re.compile(SESSION_PATTERN)


def new_session_id() -> str:
    """Returns a fresh session id, unique enough to scope one process's containers."""
    return "s-" + secrets.token_hex(6)


def valid_session_id(value: str) -> bool:
    """Tells whether `value` can be a session id (it becomes a label value and a filter)."""
    return bool(_SESSION_RE.match(value))


def managed_filter(session_id: str | None = None, tenant: str | None = None) -> dict[str, str]:
    """Returns the label filter that selects what the tool made, optionally one session's.

    A tenant other than the default narrows it at the engine. The default tenant's filter cannot:
    objects made before tenants existed carry no tenant label and belong to it, so callers
    also keep only `in_tenant` rows (which every list does through `Context`).
    """
    labels = {MANAGED_BY: MANAGER}
    if session_id:
        labels[SESSION] = session_id
    if tenant and tenant != DEFAULT_TENANT:
        labels[TENANT] = tenant
    return labels


def tenant_of(labels: Mapping[str, str]) -> str:
    """Returns the tenant an object's labels name (the default one when they name none)."""
    return labels.get(TENANT) or DEFAULT_TENANT


def in_tenant(labels: Mapping[str, str], tenant: str) -> bool:
    """Tells whether the tool made the object for `tenant`."""
    return is_managed(labels) and tenant_of(labels) == tenant


def visible(labels: Mapping[str, str], tenant: str, session_id: str) -> bool:
    """Tells whether a session may see a container: its tenant's, and its own or persistent."""
    if not in_tenant(labels, tenant):
        return False
    return labels.get(SESSION) == session_id or labels.get(PERSISTENT) == "true"


def is_managed(labels: Mapping[str, str]) -> bool:
    """Tells whether an object's labels say the tool made it."""
    return labels.get(MANAGED_BY) == MANAGER


def user_labels(labels: Mapping[str, str], field: str = "labels") -> dict[str, str]:
    """Validates caller labels: the tool's namespace is reserved.

    Raises:
        InvalidInputError: A key is in the reserved namespace or empty.
    """
    for key in labels:
        if not key or key.startswith(PREFIX):
            raise InvalidInputError(
                f"Label key {key!r} is reserved for the tool.",
                hint=f"Use a key outside the '{PREFIX}' namespace, e.g. 'app.role'.",
                field=field,
            )
    return dict(labels)


def visible_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Returns the labels a caller set, without the tool's own."""
    return {k: v for k, v in labels.items() if not k.startswith(PREFIX)}


def workdir(labels: Mapping[str, str], engine_workdir: str) -> str:
    """The directory a container's execs start in: its WORKDIR label, else the engine's.

    A compose service runs in what its compose file says; a label it carries came with its
    image (a snapshot's), not from the tool's create.
    """
    if COMPOSE_SERVICE in labels:
        return engine_workdir
    return labels.get(WORKDIR) or engine_workdir


def image(labels: Mapping[str, str], engine_image: str) -> str:
    """The image a container was made from as the caller named it: its IMAGE label, else the
    engine's (which names a derived image when create started from one)."""
    return labels.get(IMAGE) or engine_image
