"""Who an exec runs as when the caller names nobody: the container's mapped user.

On Docker a container whose configured user is not root has no capabilities at all, in every
exec, root ones included (the engine clears them for a non-root process spec and execs inherit
it; no-new-privileges keeps them cleared). `as_root` work such as `apt-get install` or `chown`
would then fail. So the tool's keep-alive containers run as root at the engine level and carry
their mapped user in a label instead; both adapters send that user with every exec that names
none. Containers that run their image's own command keep the engine-level user (their main
process must run as it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from containers_tool import labels as lb

if TYPE_CHECKING:
    from containers_tool.runtime.types import ContainerSpec

#: uid:gid of root, as execs and specs name it.
ROOT = "0:0"


class ExecUsers:
    """Resolves `user=None` to a container's exec-user label, inspecting each container once.

    Args:
        labels: Returns a container's (id, labels) from the engine.
    """

    def __init__(self, labels: Callable[[str], tuple[str, Mapping[str, str]]]) -> None:
        self._labels = labels
        self._known: dict[str, str] = {}
        self._lock = threading.Lock()

    def remember(self, container_id: str, user: str | None) -> None:
        """Records the exec user of a container this process just created."""
        with self._lock:
            self._known[container_id] = user or ""

    def forget(self, container: str) -> None:
        """Drops a removed container (by id or name)."""
        with self._lock:
            self._known.pop(container, None)

    def resolve(self, container: str, user: str | None) -> str:
        """Returns `user`, or the container's exec user when `user` is empty ("" = engine's)."""
        if user:
            return user
        with self._lock:
            known = self._known.get(container)
        if known is not None:
            return known
        cid, labels = self._labels(container)
        found = labels.get(lb.EXEC_USER_LABEL, "")
        if cid and container == cid:  # names can be reused by another container: cache ids only
            with self._lock:
                self._known[cid] = found
        return found


def exec_user_labels(spec: ContainerSpec) -> dict[str, str]:
    """Returns the spec's labels, plus the exec-user label when it has one."""
    labels = dict(spec.labels)
    if spec.exec_user:
        labels[lb.EXEC_USER_LABEL] = spec.exec_user
    return labels
