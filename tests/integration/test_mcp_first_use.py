"""MCP as a new user's client meets it: how long a container lives, clean descriptions."""

from __future__ import annotations

import re

from mcp import ClientSession

from tests.integration.conftest import BUSYBOX, unique
from tests.integration.test_mcp import _call, _with_session


def test_mcp_create_says_when_its_container_ends_and_how_to_keep_it(engine):
    async def body(session: ClientSession) -> None:
        _, made = await _call(session, operation="create", image=BUSYBOX, name=unique("mcpl"))
        assert made["ok"], made
        assert "client disconnects" in made["lifetime"]
        assert "persistent: true" in made["lifetime"]
        _, kept = await _call(
            session, operation="create", image=BUSYBOX, name=unique("mcpk"), persistent=True
        )
        assert kept["ok"], kept
        assert "lifetime" not in kept
        for box in (made, kept):
            await _call(session, operation="destroy", container=box["container"])

    _with_session(engine, body)


def test_mcp_tool_descriptions_have_no_doubled_punctuation(engine):
    async def body(session: ClientSession) -> None:
        (tool,) = (await session.list_tools()).tools
        texts = [tool.description or ""]
        texts += [str(p.get("description", "")) for p in tool.input_schema["properties"].values()]
        for text in texts:
            assert not re.search(r"[.;:,][.;:,]", text.replace("...", "…")), text

    _with_session(engine, body)
