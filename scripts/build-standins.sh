#!/usr/bin/env bash
# Build local stand-ins for the base images of the built-in purposes, from Debian packages.
#
#   bash scripts/build-standins.sh            # build the stand-ins an engine lacks (both engines)
#   bash scripts/build-standins.sh --check    # exit 1 if any engine lacks one; change nothing
#   bash scripts/build-standins.sh --print    # print the purpose -> stand-in map (YAML)
#
# Machines without an image registry (this project's CI, air-gapped hosts) cannot pull
# python:3.12-slim, node:20-slim, rust:1-slim, golang:1.22-bookworm or ubuntu:24.04. Each
# stand-in below is built FROM localhost/base/debian:12 (imported by provision-engines.sh) with
# Debian's own packages, fetched over plain http from deb.debian.org, so no CA bundle and no
# https host is needed here. The purposes themselves still build on top, with the host CA
# bundle copied in by the tool (pip/uv reach PyPI through the TLS-intercepting proxy).
# config/standin-purposes.yaml points each purpose at its stand-in through `purpose_images`.
#
# Cached by tag like the base images: a tag an engine already has is never rebuilt (delete the
# tag to force a rebuild). Python and Node need newer releases than bookworm has (3.12+,
# 20 + corepack), so those two stand-ins take their packages from Debian 13 (trixie).
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), STANDIN_ENGINES
# (default "docker podman").
set -euo pipefail
unset DOCKER_HOST DOCKER_CONTEXT CONTAINER_HOST CONTAINER_CONNECTION

BASE=localhost/base/debian:12
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
read -r -a ENGINES <<<"${STANDIN_ENGINES:-docker podman}"
say() { printf '[standins] %s\n' "$*" >&2; }

APT='export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq --no-install-recommends'
CLEAN='rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb'
TRIXIE="echo 'deb $MIRROR trixie main' > /etc/apt/sources.list"

PY_TRIXIE="RUN $TRIXIE && $APT python3 python3-pip python3-venv python-is-python3 && $CLEAN && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED"

# The amplifier stand-in also carries a stub `amplifier` CLI as wheels of two versions in
# /opt/standin/wheels, so CI proves the purpose's mirror settings: AMPLIFIER_SOURCE=amplifier
# with UV_FIND_LINKS there and UV_NO_INDEX=1 (see config/standin-purposes.yaml). The stub
# records its arguments in ~/.amplifier-standin.log.
amplifier_files() { # dir
  local v src
  for v in 0.0.1 0.0.2; do
    src="$1/amplifier-$v"
    mkdir -p "$src"
    cat >"$src/pyproject.toml" <<EOF
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
[project]
name = "amplifier"
version = "$v"
[project.scripts]
amplifier = "amplifier_standin:main"
EOF
    cat >"$src/amplifier_standin.py" <<'EOF'
"""A stand-in for the amplifier CLI: records its arguments, prints its version."""
import importlib.metadata
import pathlib
import sys


def main() -> None:
    log = pathlib.Path.home() / ".amplifier-standin.log"
    with log.open("a", encoding="utf-8") as out:
        out.write(" ".join(sys.argv[1:]) + "\n")
    print("amplifier stand-in", importlib.metadata.version("amplifier"))
EOF
  done
}
# One line per entry below: Dockerfile lines are joined with a literal \n (printf %b).
AMPLIFIER_BODY="$PY_TRIXIE\\nRUN $APT python3-setuptools python3-wheel && $CLEAN\\nCOPY . /opt/standin/src\\nRUN for v in 0.0.1 0.0.2; do pip wheel -q --no-deps --no-build-isolation -w /opt/standin/wheels /opt/standin/src/amplifier-\$v; done"

# purpose|stand-in tag|Dockerfile body after FROM|function writing extra context files
STANDINS=(
  "python|localhost/standin/python:3.12-slim|$PY_TRIXIE|"
  "amplifier|localhost/standin/amplifier:3.12-slim|$AMPLIFIER_BODY|amplifier_files"
  "node|localhost/standin/node:20-slim|RUN $TRIXIE && $APT nodejs npm node-corepack && $CLEAN|"
  "rust|localhost/standin/rust:1-slim|RUN $APT cargo rustc rustfmt rust-clippy && $CLEAN|"
  "go|localhost/standin/golang:1.22-bookworm|RUN $APT golang-go && $CLEAN|"
  "general|localhost/standin/ubuntu:24.04|RUN true|"
)

has_image() { "$1" image inspect "$2" >/dev/null 2>&1; }

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  --print) mode=print ;;
  -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check|--print]" >&2; exit 2 ;;
esac

if [[ $mode == print ]]; then
  echo "purpose_images:"
  for entry in "${STANDINS[@]}"; do
    IFS='|' read -r purpose tag _ <<<"$entry"
    echo "  $purpose: $tag"
  done
  exit 0
fi

missing=0
for engine in "${ENGINES[@]}"; do
  command -v "$engine" >/dev/null || { say "$engine: not installed, skipped"; continue; }
  has_image "$engine" "$BASE" || { say "$engine lacks $BASE: run scripts/provision-engines.sh"; exit 1; }
  for entry in "${STANDINS[@]}"; do
    IFS='|' read -r purpose tag body files <<<"$entry"
    has_image "$engine" "$tag" && continue
    if [[ $mode == check ]]; then say "MISSING $engine $tag"; missing=1; continue; fi
    say "building $tag in $engine (stand-in for purpose $purpose)"
    dir=$(mktemp -d)
    [[ -n "$files" ]] && "$files" "$dir"
    printf 'FROM %s\n%b\n' "$BASE" "$body" >"$dir/Dockerfile"
    # One retry: a build beside other jobs on the engine can fail for reasons of the moment
    # (netavark once said ENOENT while parallel tests tore networks down; a mirror may blink).
    if ! out=$("$engine" build -q -t "$tag" "$dir" 2>&1); then
      printf '%s\n' "$out" >&2
      say "$engine build of $tag failed; trying once more"
      out=$("$engine" build -q -t "$tag" "$dir" 2>&1) ||
        { printf '%s\n' "$out" >&2; rm -rf "$dir"; say "$engine build of $tag failed"; exit 1; }
    fi
    rm -rf "$dir"
  done
done
((missing)) && exit 1
say "ready: ${ENGINES[*]} have every stand-in"
