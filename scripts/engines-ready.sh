#!/usr/bin/env bash
# Are both container engines usable by containers-tool right now?
#
#   scripts/engines-ready.sh                  # exit 0 if ready; else list what is missing, exit 1
#   scripts/engines-ready.sh -q               # same, silent
#   scripts/engines-ready.sh --has-image TAG  # exit 0 if ANY answering engine has TAG
#
# "Ready" means: the Docker API answers _ping, the Podman API answers _ping, both local base
# images (localhost/base/busybox:latest, localhost/base/debian:12) exist in both engines, and
# ssh and sshd are installed (ssh:// engines and their tests).
# Talks to the APIs with curl only (no engine CLI, no Python), so it takes a few ms.
#
# Endpoints, as the SDKs resolve them:
#   docker  $DOCKER_HOST (unix:// or plain tcp://), else unix:///var/run/docker.sock
#   podman  $CONTAINER_HOST (unix://), else unix:///run/podman/podman.sock for root; for other
#           users $XDG_RUNTIME_DIR/podman/podman.sock when that socket exists
# Missing pieces are provisioned by scripts/provision-engines.sh (root, Debian).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES=(localhost/base/busybox:latest localhost/base/debian:12)

quiet=0
has_image=""
while (($#)); do
  case "$1" in
    -q | --quiet) quiet=1 ;;
    --has-image) has_image=${2:?--has-image needs a TAG}; shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "usage: $0 [-q] [--has-image TAG]" >&2; exit 2 ;;
  esac
  shift
done

problems=()

# endpoint URL -> sets CURL_ARGS (connection options) and BASE (URL prefix); 1 if unsupported
resolve() {
  case "$1" in
    unix://*) CURL_ARGS=(--unix-socket "${1#unix://}"); BASE=http://d ;;
    tcp://*) CURL_ARGS=(); BASE="http://${1#tcp://}" ;;
    *) return 1 ;;
  esac
}

docker_url=${DOCKER_HOST:-unix:///var/run/docker.sock}
if [[ -n "${CONTAINER_HOST:-}" ]]; then
  podman_url=$CONTAINER_HOST
elif ((EUID != 0)) && [[ -S "${XDG_RUNTIME_DIR:-/nonexistent}/podman/podman.sock" ]]; then
  podman_url="unix://$XDG_RUNTIME_DIR/podman/podman.sock"
else
  podman_url=unix:///run/podman/podman.sock
fi

api() { # url path -> 0 on HTTP 2xx
  local CURL_ARGS BASE
  resolve "$1" || return 1
  curl -fsS --max-time 2 -o /dev/null "${CURL_ARGS[@]}" "$BASE$2" 2>/dev/null
}

found_image=0
for engine in docker podman; do
  if [[ $engine == docker ]]; then url=$docker_url; else url=$podman_url; fi
  if ! resolve "$url"; then
    problems+=("$engine: cannot check endpoint $url (only unix:// and plain tcp:// are supported)")
    continue
  fi
  if ! api "$url" /_ping; then
    problems+=("$engine: API does not answer at $url")
    continue
  fi
  if [[ -n "$has_image" ]]; then
    api "$url" "/images/$has_image/json" && found_image=1
    continue
  fi
  for tag in "${IMAGES[@]}"; do
    api "$url" "/images/$tag/json" || problems+=("$engine: image $tag is missing")
  done
done

# The remote-engine tests drive both engines through a private sshd (tests/integration/sshd.py).
if [[ -z "$has_image" ]]; then
  command -v ssh >/dev/null || problems+=("ssh (openssh-client) is missing: ssh:// engines need it")
  [[ -x /usr/sbin/sshd ]] || command -v sshd >/dev/null ||
    problems+=("sshd (openssh-server) is missing: the remote-engine tests need it")
fi

if [[ -n "$has_image" ]]; then
  ((found_image)) && exit 0
  ((quiet)) || echo "engines-ready: no answering engine has $has_image" >&2
  exit 1
fi

((${#problems[@]} == 0)) && exit 0
if ((!quiet)); then
  printf 'engines-ready: %s\n' "${problems[@]}" >&2
  echo "engines-ready: fix with: sudo $here/provision-engines.sh" >&2
fi
exit 1
