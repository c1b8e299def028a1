"""Command line for humans: one subcommand per operation, the shell handoff, the MCP server."""
