"""The Podman backend, over the `podman` SDK (libpod REST)."""
