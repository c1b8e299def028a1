"""Command line for humans: one subcommand per operation, the shell handoff, the MCP server."""

from containers_tool.cli.main import main

__all__ = ["main"]
