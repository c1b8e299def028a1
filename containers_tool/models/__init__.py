"""Pydantic input models, one module per operation family (mirroring handlers/)."""
