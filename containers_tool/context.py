"""Per-tool state shared by handlers: settings, the lazily connected runtime, the session."""

from __future__ import annotations

import contextlib
import difflib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from containers_tool import labels as lb
from containers_tool.core import facts
from containers_tool.core.activity import Activity, Tombstone, iso
from containers_tool.core.shells import SessionRegistry
from containers_tool.errors import ConflictError, NotFoundError, ToolError
from containers_tool.provision.purposes import PurposeRegistry
from containers_tool.registry import OPERATIONS
from containers_tool.runtime.backends import get_runtime
from containers_tool.runtime.capabilities import require, supports
from containers_tool.runtime.protocol import Runtime
from containers_tool.runtime.types import ContainerInfo, EngineInfo
from containers_tool.settings import Settings, state_dir
from containers_tool.store import Store

if TYPE_CHECKING:
    from containers_tool.core.pool import Pool

T = TypeVar("T")
C = TypeVar("C", bound=Runtime)

#: "runtime endpoint" -> what that engine said of itself (Context.engine_info).
_FACTS: dict[str, EngineInfo] = {}
_FACTS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Ref:
    """A managed container, resolved once: labels never change after creation."""

    id: str
    name: str
    workdir: str
    user: str
    envfile: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


class Housekeeper(Protocol):
    """Removes what expired or was orphaned (core/housekeeping.py); installed by the tool."""

    def connected(self, ctx: Context) -> None:
        """Called once the runtime is connected (the start-up sweep)."""

    def expired(self, ctx: Context, ref: Ref, last_active: float) -> NotFoundError | None:
        """Removes an expired container and returns the error to raise, or None if in use."""


class Context:
    """What a handler may use. Only the runtime adapter knows which engine it is.

    Args:
        settings: Resolved settings.
        session_id: The session this tool instance owns.
        runtime: An already connected runtime (else connected on first use).
    """

    def __init__(self, settings: Settings, session_id: str, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.session_id = session_id
        #: Everything this tool makes carries it; nothing of another tenant is visible.
        self.tenant = settings.tenant
        #: What the engine cannot record (agent bindings), shared by the tenant's processes.
        self.store = Store(state_dir(settings))
        self._runtime = runtime
        self._lock = threading.Lock()
        self._refs: dict[str, Ref] = {}
        self._info: EngineInfo | None = None
        self.sessions = SessionRegistry()  # persistent shells, held by this process
        self.purposes = PurposeRegistry(settings)
        #: The warm pool (setting `pool`), set by the tool that owns this context.
        self.pool: Pool | None = None
        #: Last activity and tombstones, shared by every process using the state directory.
        self.activity = Activity(state_dir(settings))
        self.housekeeper: Housekeeper | None = None
        #: Whether ending this tool's session removes its ephemeral containers; only then does
        #: it record itself as their owner (so a dead owner's containers are orphans).
        self.owns_session = True
        #: Called with each line of an image build (the CLI shows progress with it).
        self.on_build_line: Callable[[str], None] | None = None

    @property
    def runtime(self) -> Runtime:
        """The engine adapter, connected on first use.

        Raises:
            RuntimeUnavailableError: No engine answers.
        """
        if self._runtime is None:
            fresh = False
            with self._lock:
                if self._runtime is None:
                    self._runtime = get_runtime(self.settings)
                    fresh = True
            if fresh and self.housekeeper is not None:
                self.housekeeper.connected(self)
        return self._runtime

    def engine_info(self) -> EngineInfo:
        """What the engine says of itself, asked once per endpoint and process.

        Its version and CPU count do not change while it runs, and a new tool instance's first
        create should not wait for the engine's (on Podman, slow) info again: a local engine's
        answer is also kept on disk until it restarts (core/facts.py), for the next process.
        preflight asks the runtime itself, afresh.

        Raises:
            RuntimeUnavailableError: No engine answers.
        """
        if self._info is None:
            key = self.engine_key
            with _FACTS_LOCK:
                known = _FACTS.get(key) if key else None
            endpoint = getattr(self.runtime, "endpoint", "")
            if key and known is None and isinstance(endpoint, str):
                known = facts.load(state_dir(self.settings), key, endpoint)
                adopt = getattr(self.runtime, "adopt_info", None)
                if known is not None and callable(adopt):
                    adopt(known)  # what else the runtime would have read from the same answer
                if known is None:
                    known = self.runtime.info()
                    facts.save(state_dir(self.settings), key, known)
                with _FACTS_LOCK:
                    _FACTS[key] = known
            self._info = known or self.runtime.info()
        return self._info

    @property
    def engine_key(self) -> str | None:
        """Names the engine this context talks to ("runtime endpoint"); None if it has no URL."""
        endpoint = getattr(self.runtime, "endpoint", None)
        return f"{self.runtime.name} {endpoint}" if isinstance(endpoint, str) else None

    def capability(self, kind: type[C]) -> C | None:
        """The runtime typed as having capability `kind` (e.g. `Networks`), None if it lacks it.

        Raises:
            RuntimeUnavailableError: No engine answers.
        """
        return supports(self.runtime, kind)

    def require(self, kind: type[C], operation: str) -> C:
        """The runtime typed as having capability `kind`, or `operation` refused.

        Raises:
            InvalidInputError: The backend lacks it ("not supported by this backend").
            RuntimeUnavailableError: No engine answers.
        """
        return require(self.runtime, kind, operation)

    @property
    def connected(self) -> bool:
        """Tells whether the runtime has been connected."""
        return self._runtime is not None

    def close(self) -> None:
        """Closes the shell sessions, the runtime connection and the state databases."""
        self.sessions.close_all()
        self.activity.store.close()
        self.store.close()
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
            self._info = None

    def resolve(self, container: str, field: str = "container") -> Ref:
        """Returns the managed container named `container`; others are invisible.

        Raises:
            NotFoundError: No container by that name, or one the tool did not make.
        """
        cached = self._refs.get(container)
        if cached is not None:
            return self._active(cached)
        try:
            info = self.runtime.inspect_container(container)
        except NotFoundError:
            info = None
        waiting = info is not None and info.name.startswith(lb.POOL_PREFIX)  # a pool's, hidden
        # Another tenant's container, or another session's ephemeral one, is not there at all.
        if info is None or waiting or not lb.visible(info.labels, self.tenant, self.session_id):
            raise self.not_found(container, field)
        ref = self.remember(info)
        self._refs[container] = ref
        return self._active(ref)

    def remember(self, info: ContainerInfo) -> Ref:
        """Caches what an inspect of a managed container said, so resolving it asks no more."""
        ref = Ref(
            info.id,
            info.name,
            info.workdir or "/",
            info.user,
            info.labels.get(lb.ENVFILE) == "true",
            dict(info.labels),
        )
        self._refs[info.name] = ref
        return ref

    def _active(self, ref: Ref) -> Ref:
        """Records the use of a container, unless it expired (then it is removed: not_found)."""
        last = self.activity.idle_since(ref.id, ref.labels)
        if last is not None and self.housekeeper is not None:
            gone = self.housekeeper.expired(self, ref, last)
            if gone is not None:
                raise gone
        self.activity.touch(ref.id, ref.name, ref.labels.get(lb.SESSION), ref.labels)
        return ref

    def refresh(self, container: str, field: str = "container") -> Ref:
        """Resolves `container` from the engine, never from this process's cache.

        Raises:
            NotFoundError: No managed container by that name.
        """
        self.forget(container)
        return self.resolve(container, field)

    def using(self, container: str, action: Callable[[Ref], T], field: str = "container") -> T:
        """Runs `action` on a managed container, retrying once if the cached id went stale.

        Another process may have destroyed the container and made a new one by that name: the
        engine then no longer knows the cached id. The name is resolved afresh and `action`
        runs again on the new container; a not-found about anything else (a path, a network)
        is raised as it was.

        Raises:
            NotFoundError: No managed container by that name, or what `action` raised.
        """
        ref = self.resolve(container, field)
        with named_errors(self, ref.id, ref.name):
            try:
                return action(ref)
            except NotFoundError:
                if self.refresh(container, field).id == ref.id:
                    raise
        fresh = self.resolve(container, field)
        with named_errors(self, fresh.id, fresh.name):
            return action(fresh)

    def forget(self, container: str) -> None:
        """Drops a cached resolution (after destroy, or when the engine no longer knows it)."""
        self._refs.pop(container, None)
        for key in [k for k, v in self._refs.items() if container in (v.name, v.id)]:
            self._refs.pop(key, None)

    def visible_containers(self, session_id: str | None = None) -> list[ContainerInfo]:
        """Lists the containers this session may see, optionally only one session's.

        They are the tenant's containers of this session, and its persistent ones of any.
        """
        infos = self.runtime.list_containers(lb.managed_filter(session_id, self.tenant))
        return [
            i
            for i in infos
            if lb.visible(i.labels, self.tenant, self.session_id)
            and not i.name.startswith(lb.POOL_PREFIX)  # a pool's: nobody's yet
        ]

    def tenant_containers(self, session_id: str | None = None) -> list[ContainerInfo]:
        """Lists all the tenant's containers, of every session (quota, destroy_all)."""
        infos = self.runtime.list_containers(lb.managed_filter(session_id, self.tenant))
        return [i for i in infos if lb.in_tenant(i.labels, self.tenant)]

    def not_found(self, container: str, field: str = "container") -> NotFoundError:
        """Builds the not_found error for a container, naming close visible matches."""
        stone = self.activity.store.tombstone(container)
        if stone is not None:
            return removed_error(stone, field)
        names = [c.name for c in self.visible_containers()]
        close = difflib.get_close_matches(container, names, n=3, cutoff=0.5)
        hint = "Call list to see the containers this tool manages"
        hint += f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "."
        return NotFoundError(f"No managed container named {container!r}.", hint=hint, field=field)


@contextlib.contextmanager
def named_errors(ctx: Context, cid: str, name: str) -> Iterator[None]:
    """Makes engine errors about a container speak of its name, and say when it is stopped.

    The adapter is called with ids, so its messages quote 64 hex digits; and the engines answer
    an exec in a stopped container with a bare 409 that says nothing of what to do.

    Raises:
        ConflictError: The container is not running (field `container`), or another conflict.
        ToolError: Whatever the body raised, with the id replaced by the name.
    """
    try:
        yield
    except ConflictError as exc:
        try:
            info = ctx.runtime.inspect_container(cid)
        except ToolError:
            info = None
        if info is not None and info.state != "running":
            code = f", exit code {info.exit_code}" if info.exit_code is not None else ""
            raise ConflictError(
                f"Container {name!r} is not running ({info.state}{code}).",
                hint="Call status and logs to see why it stopped; destroy it and create it "
                "again to get a running one.",
                field="container",
            ) from exc
        exc.message = _with_name(exc.message, cid, name)
        raise
    except ToolError as exc:
        exc.message = _with_name(exc.message, cid, name)
        raise


def _with_name(message: str, cid: str, name: str) -> str:
    return message.replace(cid, name).replace(cid[:12], name) if cid else message


def removed_error(stone: Tombstone, field: str = "container") -> NotFoundError:
    """The not_found of a container the tool removed on its own: when, why, and what next."""
    when = iso(stone.removed_at)
    if stone.reason == "expired":
        why = f"expired at {when} after {stone.detail} without activity and was removed"
    else:
        why = f"was removed at {when} because {stone.detail}"
    rebind = " and rebind your agents to it with bind_agent" if "bind_agent" in OPERATIONS else ""
    return NotFoundError(
        f"Container {stone.name!r} {why}; it cannot be reactivated.",
        hint=f"Call create for a new one{rebind}; pass persistent: true or a larger "
        "expires_after to keep a container longer, and keep_alive to reset its clock.",
        field=field,
    )
