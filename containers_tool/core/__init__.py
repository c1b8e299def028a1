"""Engine-neutral features on the Runtime protocol: create, exec, shells, jobs, compose."""
