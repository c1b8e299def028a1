#!/usr/bin/env bash
# Make a checkout usable: a .venv with the package and its dev tools, and both container engines.
#
#   bash scripts/bootstrap.sh       # standalone
#   source scripts/bootstrap.sh     # from scripts/test, scripts/quickstart, .ci/run; afterwards
#                                   # CT_REPO (repo root) and CT_VENV (its .venv) are set
#
# Steps (each a no-op when already done, so the whole thing is ~0.1 s on a ready machine):
#   1. .venv: created with `python3 -m venv` (or $PYTHON) if missing or broken.
#   2. `pip install -e '.[dev]'`, only when pyproject.toml is newer than .venv/.installed-stamp.
#   3. engines: if scripts/engines-ready.sh fails and we are root on Debian, run
#      scripts/provision-engines.sh; otherwise print what to install and fail.
#      CONTAINERS_TOOL_SKIP_ENGINES=1 skips this step (lint / unit tests only).
#
# Sourcing does not change the caller's shell options: the work runs in a subshell with
# `set -euo pipefail`; its failure is the status of the `source` command.

_ct_bootstrap() (
  set -euo pipefail
  cd "$1" # the repo root
  say() { printf '[bootstrap] %s\n' "$*" >&2; }
  die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

  # --- 1. virtualenv ---
  py=${PYTHON:-python3}
  if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c '' 2>/dev/null; then
    if [[ -e .venv && ! -w .venv ]]; then
      die ".venv exists but its python does not run for $(id -un) and it is not writable; remove it"
    fi
    command -v "$py" >/dev/null || die "$py not found; install Python >= 3.11 (Debian: python3 python3-venv)"
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
      die "$py is $("$py" -V 2>&1); containers-tool needs Python >= 3.11 (set PYTHON=...)"
    say "creating .venv with $("$py" -V 2>&1)"
    rm -f .venv/.installed-stamp
    "$py" -m venv --clear .venv ||
      die "python3 -m venv failed (Debian/Ubuntu: apt-get install python3-venv)"
  fi

  # --- 2. the package, editable, with dev extras ---
  stamp=.venv/.installed-stamp
  if [[ ! -e "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    say "pip install -e '.[dev]' (pyproject.toml changed or first run)"
    .venv/bin/python -m pip install -q -e '.[dev]' || die "pip install -e '.[dev]' failed"
    touch "$stamp"
  fi

  # --- 3. container engines ---
  [[ "${CONTAINERS_TOOL_SKIP_ENGINES:-0}" == 1 ]] && exit 0
  if report=$(scripts/engines-ready.sh 2>&1); then
    exit 0
  fi
  if ((EUID == 0)) && command -v apt-get >/dev/null; then
    say "engines not ready; provisioning:"
    printf '%s\n' "$report" >&2
    bash scripts/provision-engines.sh || die "scripts/provision-engines.sh failed"
    scripts/engines-ready.sh || die "engines still not ready after provisioning (see above)"
    exit 0
  fi

  printf '%s\n' "$report" >&2
  cat >&2 <<'EOF'
[bootstrap] containers-tool needs Docker and Podman, both with their API sockets up, and two
[bootstrap] local base images. On Debian/Ubuntu, as root, one command does all of it:
[bootstrap]     sudo scripts/provision-engines.sh
[bootstrap] Otherwise install and start them yourself:
[bootstrap]   packages (Debian names): docker.io podman catatonit uidmap docker-compose
[bootstrap]     podman-compose curl iptables criu debootstrap busybox-static
[bootstrap]     (catatonit is what `podman run --init` executes; without it --init fails)
[bootstrap]   Docker:  sudo systemctl enable --now docker; sudo usermod -aG docker "$USER"
[bootstrap]   Podman API socket, either
[bootstrap]     rootless: systemctl --user enable --now podman.socket
[bootstrap]               export CONTAINER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock
[bootstrap]     root:     podman system service --time=0 unix:///run/podman/podman.sock &
[bootstrap]   Base images localhost/base/busybox:latest and localhost/base/debian:12 in BOTH
[bootstrap]     engines (CMD ["/bin/sh"]): build the rootfs tarballs as provision-engines.sh
[bootstrap]     does, then  docker|podman import --change 'CMD ["/bin/sh"]' ROOTFS.tar TAG
[bootstrap] Then re-run; scripts/engines-ready.sh says what is still missing.
EOF
  exit 1
)

CT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034  # for the scripts that source this file
CT_VENV="$CT_REPO/.venv"

# Run directly: strict mode. Sourced: leave the caller's options alone. Either way the status of
# this last command is the result (under a caller's `set -e` a failure ends the caller).
[[ "${BASH_SOURCE[0]}" == "$0" ]] && set -euo pipefail
_ct_bootstrap "$CT_REPO"
