"""A container's config as Dockerfile changes, for commits made by export and import.

Both engines' commit copies every container label and env value into the image; neither can
drop one. So both adapters export the filesystem and import it with the config rebuilt from
these changes: the image holds exactly the labels and env values asked for.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from containers_tool import labels as lb

#: Variables the engine sets in each container itself (Podman lists them in the config).
ENGINE_SET_ENV = frozenset({"HOSTNAME", "container"})


def quote(value: str) -> str:
    """Quotes a value for a Dockerfile instruction given as a change."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_changes(
    config: Mapping[str, Any],
    entrypoint: Sequence[str] | None,
    labels: Mapping[str, str],
    env: Mapping[str, str],
    command: Sequence[str] | None,
    drop_labels: Collection[str],
) -> list[str]:
    """Returns the changes that rebuild a container's config on its imported filesystem.

    Args:
        config: The container inspect's `Config` (Docker's and Podman's share these keys).
        entrypoint: The entrypoint, as a list (Podman 4 reports it as one string).
        labels: Labels set on the image, over the container's.
        env: Variables whose value replaces the container's.
        command: The image's CMD; None keeps the container's.
        drop_labels: Container label keys the image does not get.
    """
    envs = {
        k: v
        for k, _, v in (str(e).partition("=") for e in config.get("Env") or [])
        if k not in ENGINE_SET_ENV
    }
    envs.update(env)
    changes = [f"ENV {k}={quote(v)}" for k, v in envs.items()]
    kept = {k: v for k, v in (config.get("Labels") or {}).items() if k not in drop_labels}
    changes += [f"LABEL {quote(k)}={quote(v)}" for k, v in {**kept, **labels}.items()]
    cmd = list(command) if command is not None else config.get("Cmd")
    if cmd:
        changes.append(f"CMD {json.dumps(cmd)}")
    if entrypoint:
        changes.append(f"ENTRYPOINT {json.dumps(list(entrypoint))}")
    if config.get("WorkingDir"):
        changes.append(f"WORKDIR {config['WorkingDir']}")
    # The user the container's execs ran as, not its keep-alive's root (see users.py).
    user = (config.get("Labels") or {}).get(lb.EXEC_USER_LABEL) or config.get("User")
    if user:
        changes.append(f"USER {user}")
    changes += [f"EXPOSE {port}" for port in config.get("ExposedPorts") or {}]
    if config.get("StopSignal"):
        changes.append(f"STOPSIGNAL {config['StopSignal']}")
    return changes
