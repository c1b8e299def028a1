"""exec with session= and close_session: commands in a container's persistent shells."""

from __future__ import annotations

from containers_tool.context import Context
from containers_tool.errors import NotFoundError
from containers_tool.models.shells import CloseSessionInput
from containers_tool.registry import operation


@operation("close_session", CloseSessionInput)
def close_session(args: CloseSessionInput, ctx: Context) -> dict[str, object]:
    """Ends a persistent shell session; processes it started in the background keep running."""
    ref = ctx.resolve(args.container)
    if not ctx.sessions.close(ref.id, args.session):
        names = [str(s["session"]) for s in ctx.sessions.describe(ref.id)]
        raise NotFoundError(
            f"No open session {args.session!r} in container {ref.name!r}.",
            hint=f"Open sessions: {', '.join(names)}."
            if names
            else "None is open; exec with session= opens one.",
            field="session",
        )
    return {"container": ref.name, "closed": args.session}
