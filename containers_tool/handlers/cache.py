"""cache_clear: remove purpose images, or say exactly which containers still use them."""

from __future__ import annotations

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.errors import ConflictError, EngineError, NotFoundError
from containers_tool.models.cache import CacheClearInput
from containers_tool.provision import layers
from containers_tool.registry import operation
from containers_tool.runtime.capabilities import Images, Layers


@operation("cache_clear", CacheClearInput)
def cache_clear(args: CacheClearInput, ctx: Context) -> dict[str, object]:
    """Removes cache images; a conflict names the containers still using one."""
    layers.wait()  # a HOME layer still being derived would outlive the clear
    wanted = {lb.MANAGED_BY: lb.MANAGER, lb.CACHE_LABEL: "true"}
    if args.purpose:
        wanted[lb.PURPOSE] = args.purpose
    images = ctx.require(Images, "cache_clear").list_images(wanted)
    tags = {t for image in images for t in image.tags}
    # Cache images are shared by every tenant; so is the refusal, but only visible names show.
    users = [
        c
        for c in ctx.runtime.list_containers(lb.managed_filter())
        if c.image in tags or any(c.image == i.id for i in images)
    ]
    if users:
        shown = sorted(c.name for c in users if lb.visible(c.labels, ctx.tenant, ctx.session_id))
        hidden = len(users) - len(shown)
        who = ", ".join(shown + ([f"{hidden} container(s) of other sessions"] if hidden else []))
        raise ConflictError(
            f"Cached images are in use by {who}.",
            hint="Destroy those containers first, then call cache_clear again.",
            field="purpose" if args.purpose else None,
        )
    removed: list[str] = []
    for image in images:
        for ref in image.tags or [image.id]:
            try:
                ctx.require(Images, "cache_clear").remove_image(ref)
            except NotFoundError:
                # Gone with its child: removing a HOME layer removes its untagged parent (a
                # purpose image a cache_bust replaced) as well.
                continue
            removed.append(ref)
    if not args.purpose and (derived := ctx.capability(Layers)) is not None:
        # HOME layers (provision/layers.py) are cache too; one a container runs stays.
        removed += layers.prune(derived, ctx.engine_key, keep=0)
    left = [t for t in tags if ctx.require(Images, "cache_clear").image_exists(t)]
    if left:
        raise EngineError(
            f"Images still present after removal: {', '.join(left)}.",
            hint="A container outside this tool may use them; check the engine.",
        )
    return {"removed": sorted(removed), "count": len(removed)}
