"""The engine boundary: the Runtime protocol (protocol.py), its values (types.py), the backends.

Kept free of imports so that a backend module importing a sibling never re-enters selection.
"""
