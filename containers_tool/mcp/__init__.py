"""The MCP server and the tool sessions it keeps for its clients."""
