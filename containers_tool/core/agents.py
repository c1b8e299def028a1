"""Which container an agent uses: an explicit one, its binding, or its auto container.

The order is the hosted code interpreters': a `container` argument wins; else the tenant's
binding for the agent; else, in auto mode, the agent's auto container, reused while it runs and
created with `default_auto_memory` when there is none. Explicit mode without a usable binding is
not_found, unless `fallback_to_auto_on_missing_binding` lets it use the auto container.
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import replace

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.core import bindings
from containers_tool.core.containers import remove
from containers_tool.core.create import make, plan_create
from containers_tool.errors import NotFoundError
from containers_tool.models.lifecycle import CreateInput
from containers_tool.runtime.types import ContainerInfo
from containers_tool.settings import state_dir
from containers_tool.store import file_lock


def usable(ctx: Context, binding: bindings.Binding) -> ContainerInfo | None:
    """Returns the bound container if this session can use it: there, visible, running.

    A container destroyed outside the tool, replaced under its name, stopped (expired), or
    another session's ephemeral one cannot serve the agent.
    """
    try:
        info = ctx.runtime.inspect_container(binding.container_id)
    except NotFoundError:
        return None
    if not lb.visible(info.labels, ctx.tenant, ctx.session_id) or info.state != "running":
        return None
    return info


def _result(container: str, mode: str, created: bool, fallback: bool) -> dict[str, object]:
    return {"container": container, "mode": mode, "created": created, "fallback": fallback}


def resolve(
    ctx: Context, agent: str, mode: str, container: str | None, memory: str | None
) -> dict[str, object]:
    """Resolves the container `agent` should use, creating its auto container if needed.

    Returns:
        `container`, `mode` (explicit|bound|auto), `created` and `fallback`.

    Raises:
        NotFoundError: The explicit container is not the tenant's, or explicit mode found no
            usable binding and falling back is off.
        ToolError: Creating the auto container failed (quota, tiers, engine).
    """
    if container is not None:
        return _result(ctx.refresh(container).name, "explicit", False, False)
    binding = bindings.get(ctx, agent)
    if binding is not None and (info := usable(ctx, binding)) is not None:
        return _result(info.name, "bound", False, False)
    if mode == "explicit" and not ctx.settings.fallback_to_auto_on_missing_binding:
        why = (
            "no binding"
            if binding is None
            else f"a binding to {binding.container!r}, which is gone, stopped or another "
            "session's ephemeral container"
        )
        raise NotFoundError(
            f"Agent {agent!r} has {why}, and explicit mode needs one.",
            hint=f"Call bind_agent with agent {agent!r} and a running container (create one "
            "first), or call resolve_agent with mode 'auto'.",
            field="agent",
        )
    name, created = auto_container(ctx, agent, memory)
    return _result(name, "auto", created, mode == "explicit")


def auto_container(ctx: Context, agent: str, memory: str | None) -> tuple[str, bool]:
    """Returns the agent's running auto container, creating it when there is none.

    It is persistent, so every session of the tenant reuses it, and found again by its labels
    (tenant and agent). One flock per tenant and agent keeps two processes from both creating
    one; auto containers of the agent that stopped are removed first.

    Returns:
        Its name, and whether this call created it.
    """
    lock = state_dir(ctx.settings) / "locks" / f"agent-{ctx.tenant}-{agent}.lock"
    with file_lock(lock):
        wanted = {**lb.managed_filter(tenant=ctx.tenant), lb.AGENT: agent}
        found = [
            i for i in ctx.runtime.list_containers(wanted) if lb.in_tenant(i.labels, ctx.tenant)
        ]
        running = sorted((i for i in found if i.state == "running"), key=lambda i: i.name)
        if running:
            return running[0].name, False
        for stale in found:
            remove(ctx, stale.name, stale.id, stale.labels)
        args = CreateInput(
            name=f"auto-{agent}-{secrets.token_hex(3)}",
            persistent=True,
            memory_limit=memory or ctx.settings.default_auto_memory,
        )
        # Planned and made as create does, with the agent's label (callers cannot set one).
        draft = plan_create(args, ctx)
        draft.spec = replace(draft.spec, labels={**draft.spec.labels, lb.AGENT: agent})
        with ExitStack() as undo:
            make(ctx, draft, undo)
            undo.pop_all()  # success: keep it
        return draft.name, True
