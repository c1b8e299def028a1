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


def quote(value: str, *, escapes: bool = True) -> str:
    """Quotes a value for a Dockerfile instruction given as a change.

    Docker parses a change as a Dockerfile line: a backslash escapes, `$` expands, and a
    newline cannot be written at all (see `final_env_labels`). Podman strips one pair of quotes
    and takes the rest as written (`escapes=False`), newlines included.
    """
    if not escapes:
        return f'"{value}"'
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def final_env_labels(
    config: Mapping[str, Any],
    labels: Mapping[str, str],
    env: Mapping[str, str],
    drop_labels: Collection[str],
) -> tuple[dict[str, str], dict[str, str]]:
    """Returns the env values and labels the image is to get (see `config_changes`)."""
    envs = {
        k: v
        for k, _, v in (str(e).partition("=") for e in config.get("Env") or [])
        if k not in ENGINE_SET_ENV
    }
    envs.update(env)
    kept = {k: v for k, v in (config.get("Labels") or {}).items() if k not in drop_labels}
    return envs, {**kept, **labels}


def config_changes(
    config: Mapping[str, Any],
    entrypoint: Sequence[str] | None,
    labels: Mapping[str, str],
    env: Mapping[str, str],
    command: Sequence[str] | None,
    drop_labels: Collection[str],
    *,
    escapes: bool = True,
    env_and_labels: bool = True,
) -> list[str]:
    """Returns the changes that rebuild a container's config on its imported filesystem.

    Args:
        config: The container inspect's `Config` (Docker's and Podman's share these keys).
        entrypoint: The entrypoint, as a list (Podman 4 reports it as one string).
        labels: Labels set on the image, over the container's.
        env: Variables whose value replaces the container's.
        command: The image's CMD; None keeps the container's.
        drop_labels: Container label keys the image does not get.
        escapes: Quote for Docker's parser (True) or Podman's (False); see `quote`.
        env_and_labels: False leaves ENV and LABEL out, for an engine that sets them otherwise.
    """
    changes = []
    if env_and_labels:
        envs, all_labels = final_env_labels(config, labels, env, drop_labels)
        changes += [f"ENV {k}={quote(v, escapes=escapes)}" for k, v in envs.items()]
        changes += [
            f"LABEL {quote(k, escapes=escapes)}={quote(v, escapes=escapes)}"
            for k, v in all_labels.items()
        ]
    cmd = list(command) if command is not None else config.get("Cmd")
    if cmd:
        changes.append(f"CMD {json.dumps(cmd)}")
    if entrypoint:
        changes.append(f"ENTRYPOINT {json.dumps(list(entrypoint))}")
    workdir = lb.workdir(config.get("Labels") or {}, str(config.get("WorkingDir") or ""))
    if workdir:
        changes.append(f"WORKDIR {workdir}")
    # The user the container's execs ran as, not its keep-alive's root (see users.py).
    user = (config.get("Labels") or {}).get(lb.EXEC_USER_LABEL) or config.get("User")
    if user:
        changes.append(f"USER {user}")
    changes += [f"EXPOSE {port}" for port in config.get("ExposedPorts") or {}]
    if config.get("StopSignal"):
        changes.append(f"STOPSIGNAL {config['StopSignal']}")
    return changes
