"""A create's HOME archive, baked once per image into a derived image (Docker).

Every archive Docker writes into a container re-executes the daemon's untar helper: about
45 ms, a sixth of a create. A create for a numeric user writes the same archive each time for
one image: HOME and its parents, the passwd entry, the workdir's owner, and the forwarded git
config when it holds only identity and preferences. So the first such create writes it as
usual, and a background thread has the engine derive `image + that archive` as
`localhost/containers-tool/home:<key>` (a holder container that never runs, one archive, one
commit). Later creates start from the derived image and write nothing. The container holds the
same files either way, and its config is the image's; the engine names the derived image, the
tool the caller's (label `lb.IMAGE`).

Nothing that may carry a credential goes in: keys, tokens, the env file, a git config with a
URL or a credential section, or any other forwarded file keep the archive written per create.
Derived images are cache: `cache_clear` removes them, and at most `LAYERS_MAX` are kept per
engine (the oldest go first, unless a container still uses one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from containers_tool import labels as lb
from containers_tool.context import Context
from containers_tool.errors import ToolError
from containers_tool.provision import credentials as cred
from containers_tool.provision.files import FileEntry
from containers_tool.runtime.capabilities import Layers

if TYPE_CHECKING:
    from containers_tool.core.create import Draft

log = logging.getLogger("containers_tool")

REPO = "localhost/containers-tool/home"
LAYERS_MAX = 12
#: How long closing a tool waits for a derive still running (it takes ~0.1-0.3 s).
JOIN_S = 15.0

#: (engine, key) -> whether the derived image exists there, as far as this process knows.
_KNOWN: dict[tuple[str | None, str], bool] = {}
_BAKING: dict[tuple[str | None, str], threading.Thread] = {}
_LOCK = threading.Lock()


def ref(key: str) -> str:
    """The derived image's reference for `key`."""
    return f"{REPO}:{key}"


def key_of(ctx: Context, draft: Draft, dirs: list[tuple[str, bool]]) -> str | None:
    """The derived image's key when this create writes an archive that may be kept in an
    image, else None: Docker, the keep-alive, a numeric user, no mounts, and no file but a
    git config of identity and preferences (`credentials.plain_git_config`).

    Args:
        dirs: The (path, owned) directories the archive makes besides HOME (the workdir).
    """
    p = draft.prov
    fixed = not (draft.args.keep_command or p.mount_targets or draft.mounts)
    if not (fixed and p.uid is not None and p.gid is not None and p.image_id):
        return None
    if not all(_keepable(f) for f in p.files):
        return None
    new_dirs = draft.spec.workdir is None
    if p.uid == 0 and not (p.files or new_dirs):
        return None  # root's HOME is there already: nothing is written
    if ctx.capability(Layers) is None:
        return None
    files = [[f.path, f.mode, f.owned, hashlib.sha256(f.content).hexdigest()] for f in p.files]
    # The passwd entry comes from the image's own /etc/passwd: its id keys that too. An id, not
    # a tag: a purpose rebuilt by cache_bust keeps its tag and must not get the old layer.
    facts = [p.image_id, p.uid, p.gid, p.home, dirs, new_dirs, files]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:32]


def _keepable(entry: FileEntry) -> bool:
    if entry.step != "git" or not entry.path.endswith("/.gitconfig"):
        return False
    return cred.plain_git_config(entry.content.decode("utf-8", "replace"))


def use(ctx: Context, draft: Draft, dirs: list[tuple[str, bool]]) -> None:
    """Points the draft at its derived image when there is one (marks `draft.baked`)."""
    key = draft.layer = key_of(ctx, draft, dirs)
    if key is None or not _exists(ctx, (ctx.engine_key, key)):
        return
    labels = {**draft.spec.labels, lb.IMAGE: draft.spec.image}
    draft.spec = replace(draft.spec, image=ref(key), labels=labels)
    draft.baked = True


def unuse(ctx: Context, draft: Draft) -> None:
    """Undoes `use` after the derived image turned out gone (removed by another process)."""
    if draft.layer is not None and draft.baked:
        with _LOCK:
            _KNOWN.pop((ctx.engine_key, draft.layer), None)
        labels = dict(draft.spec.labels)
        image = labels.pop(lb.IMAGE)
        draft.spec = replace(draft.spec, image=image, labels=labels)
        draft.baked = False


def _exists(ctx: Context, at: tuple[str | None, str]) -> bool:
    with _LOCK:
        known = _KNOWN.get(at)
    if known is None:
        known = ctx.require(Layers, "create").image_exists(ref(at[1]))
        with _LOCK:
            _KNOWN.setdefault(at, known)
    return known


def bake_later(ctx: Context, draft: Draft, tar: bytes | None) -> None:
    """Derives the image for the draft's key in the background, from the archive just written."""
    key, base = draft.layer, draft.prov.image_id
    if key is None or draft.baked or not tar or base is None:
        return
    layers, at = ctx.require(Layers, "create"), (ctx.engine_key, key)
    with _LOCK:
        if _KNOWN.get(at) or at in _BAKING:
            return
        thread = threading.Thread(
            target=_bake, args=(layers, at, base, tar), name="ct-home-layer", daemon=True
        )
        _BAKING[at] = thread
    thread.start()


def _bake(layers: Layers, at: tuple[str | None, str], base: str, tar: bytes) -> None:
    try:
        layers.derive_image(base, tar, ref(at[1]))
        with _LOCK:
            _KNOWN[at] = True
        prune(layers, at[0], LAYERS_MAX)
    except ToolError as exc:  # a cache: a create without it just writes its archive
        log.info("deriving the home layer of %s failed: %s", base, exc.message)
    except Exception:
        log.warning("deriving the home layer of %s failed", base, exc_info=True)
    finally:
        with _LOCK:
            _BAKING.pop(at, None)


def wait() -> None:
    """Waits for derives still running (closing a tool must not cut one off midway)."""
    with _LOCK:
        threads = list(_BAKING.values())
    for thread in threads:
        thread.join(JOIN_S)


def prune(layers: Layers, engine: str | None, keep: int) -> list[str]:
    """Removes derived images beyond the newest `keep`; one still in use stays. Returns refs."""
    images = sorted(layers.derived_images(REPO), key=lambda i: int(i.created or 0), reverse=True)
    removed = []
    for image in images[keep:]:
        for tag in image.tags:
            try:
                layers.remove_image(tag)
            except ToolError:
                continue  # a container still runs it: the next prune tries again
            removed.append(tag)
            with _LOCK:
                _KNOWN.pop((engine, tag.rpartition(":")[2]), None)
    return removed
