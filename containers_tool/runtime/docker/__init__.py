"""The Docker backend, over the `docker` SDK."""
