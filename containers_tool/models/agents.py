"""Input models of agent bindings: bind_agent, unbind_agent, resolve_agent, list_bindings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from containers_tool.labels import AGENT_PATTERN
from containers_tool.models.common import ContainerName, Input, checked_size

AgentName = Field(
    pattern=AGENT_PATTERN,
    description="The agent's name (letters, digits, _.-; up to 40), e.g. 'data-analyst'.",
)


class BindAgentInput(Input):
    """Binds an agent to one of the tenant's containers, replacing its earlier binding."""

    agent: str = AgentName
    container: ContainerName


class UnbindAgentInput(Input):
    """Removes an agent's binding (the container stays)."""

    agent: str = AgentName


class ResolveAgentInput(Input):
    """Returns the container an agent should use: explicit, bound, or its auto container."""

    agent: str = AgentName
    mode: Literal["auto", "explicit"] = Field(
        "auto",
        description="auto: without a binding, use (or create) the agent's auto container. "
        "explicit: the agent needs a binding (or the container field); without one, not_found "
        "unless the operator allows falling back to auto.",
    )
    container: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="A container to use whatever the binding says (it wins).",
    )
    memory_limit: str | None = Field(
        None,
        description='Memory tier of an auto container this call creates, e.g. "4g"; default '
        "the default_auto_memory setting. A bound or explicit container keeps its own.",
    )

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        return checked_size(value, "memory_limit")


class ListBindingsInput(Input):
    """Lists the tenant's agent bindings and whether each container is still there."""
