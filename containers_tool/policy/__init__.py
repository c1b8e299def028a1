"""Security policy: what a container, a compose service or a host path may be."""
