"""bind_agent, unbind_agent, resolve_agent, list_bindings: which container an agent uses."""

from __future__ import annotations

from containers_tool.context import Context
from containers_tool.core import agents, bindings
from containers_tool.errors import NotFoundError
from containers_tool.models.agents import (
    BindAgentInput,
    ListBindingsInput,
    ResolveAgentInput,
    UnbindAgentInput,
)
from containers_tool.registry import operation


@operation("bind_agent", BindAgentInput)
def bind_agent(args: BindAgentInput, ctx: Context) -> dict[str, object]:
    """Binds an agent to a container of the tenant; the binding outlives this process."""
    # Never the cached id: the binding must name the container that has the name now.
    ref = ctx.refresh(args.container)
    old = bindings.bind(ctx, args.agent, ref.name, ref.id)
    return {
        "agent": args.agent,
        "container": ref.name,
        "tenant": ctx.tenant,
        "replaced": old.container if old is not None and old.container_id != ref.id else None,
    }


@operation("unbind_agent", UnbindAgentInput)
def unbind_agent(args: UnbindAgentInput, ctx: Context) -> dict[str, object]:
    """Removes an agent's binding; its container stays."""
    old = bindings.unbind(ctx, args.agent)
    if old is None:
        raise NotFoundError(
            f"Agent {args.agent!r} has no binding.",
            hint="Call list_bindings to see the tenant's bindings.",
            field="agent",
        )
    return {"agent": args.agent, "unbound": old.container}


@operation("resolve_agent", ResolveAgentInput)
def resolve_agent(args: ResolveAgentInput, ctx: Context) -> dict[str, object]:
    """Returns the container the agent should use, creating its auto container if needed."""
    result = agents.resolve(ctx, args.agent, args.mode, args.container, args.memory_limit)
    return {"agent": args.agent, **result}


@operation("list_bindings", ListBindingsInput)
def list_bindings(args: ListBindingsInput, ctx: Context) -> dict[str, object]:
    """Lists the tenant's bindings, each with whether its container can serve the agent."""
    rows, total = bindings.all_of_tenant(ctx)
    out = []
    for row in rows:
        info = agents.usable(ctx, row)
        out.append(
            {
                "agent": row.agent,
                "container": row.container,
                "usable": info is not None,
                "bound_at": row.bound_at,
                "bound_by_session": row.session_id,
            }
        )
    return {"bindings": out, "count": total, "truncated": total > len(out), "tenant": ctx.tenant}
