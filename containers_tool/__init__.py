"""containers-tool: isolated Docker and Podman environments for LLM agents, through one call."""

from containers_tool.api import ContainersTool, acontainers, containers

__all__ = ["ContainersTool", "acontainers", "containers"]
__version__ = "0.1.0"
