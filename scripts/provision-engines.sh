#!/usr/bin/env bash
# Provision the two container engines containers-tool drives, on Debian 12, as root.
#
#   sudo scripts/provision-engines.sh           # install/start/import whatever is missing
#   scripts/provision-engines.sh --check        # report only; exit 1 if anything is missing
#
# Idempotent: on an already provisioned machine it changes nothing, needs no network and
# takes about 1-2 s (most of it the three smoke-test containers).
#
# What it leaves behind:
#   - Docker Engine (Debian docker.io), API at unix:///var/run/docker.sock
#   - Podman (Debian, 4.3) with its REST API at unix:///run/podman/podman.sock, plus catatonit
#     so that `podman run --init` works
#   - docker-compose v1 (Debian) and podman-compose (PyPI, venv in /opt/podman-compose,
#     linked as /usr/local/bin/podman-compose)
#   - openssh-server and -client: the tool reaches ssh:// engines through `ssh -L`, and the
#     remote-engine tests start a private sshd on loopback (no system sshd is started here)
#   - local base images, imported into BOTH engines under the same names, because no image
#     registry is reachable from these machines:
#       localhost/base/busybox:latest   static busybox, ~2 MB, starts in ~0.2 s
#       localhost/base/debian:12        Debian 12 "minbase" (debootstrap), ~120 MB
#     both with CMD ["/bin/sh"]. config/local-bases.yaml points the tool's images at them.
#
# Machine quirks this works around (and why each step below exists):
#   - PID 1 is not systemd (no `systemctl`), and the shell lacks CAP_SYS_RESOURCE.
#     `service docker start` runs /etc/init.d/docker, which does `ulimit -n 1048576` and fails,
#     so dockerd and the podman API service are started directly, detached with setsid+nohup
#     (their own session: killing the caller's process group does not take them down),
#     logging to $LOG_DIR.
#   - Without CAP_SYS_RESOURCE, podman's built-in default rlimits (nofile/nproc above our hard
#     limits) make EVERY `podman run` fail ("error setting rlimit type 7: operation not
#     permitted"), so /etc/containers/containers.conf caps default_ulimits at the hard limits.
#   - cgroups are v1 (hybrid); runc is the runtime that works here (podman prefers crun when
#     present), so podman is pinned to runc.
#   - `podman run --init` (and the API's init=true) execs /usr/libexec/podman/catatonit, which
#     Debian ships in the separate `catatonit` package. podman only Recommends it (or tini or
#     dumb-init, which podman does NOT use), so a --no-install-recommends install lacks it and
#     every --init run fails. It is therefore listed explicitly.
#   - Outbound TLS goes through a proxy whose CA is only in the host bundle
#     /etc/ssl/certs/ca-certificates.crt (PIP_CERT etc. point at it). The base images do not
#     contain it: a container or image build that fetches over https must get that bundle
#     mounted or copied in. Plain-http Debian mirrors (debootstrap, apt) work as is.
#   - /usr/local/bin/docker is a newer static docker CLI (28.x) that shadows Debian's 20.10
#     client; it talks to the 20.10 daemon by negotiating the API down to 1.41. Harmless,
#     but do not expect the newest docker CLI features from the daemon.
#
# Environment (all optional):
#   CONTAINERS_TOOL_LOG_DIR      daemon/apt/debootstrap logs   (default /var/log/containers-tool)
#   CONTAINERS_TOOL_CACHE_DIR    rootfs tarball cache          (default /var/cache/containers-tool)
#   CONTAINERS_TOOL_BASE_PREFIX  image name prefix (default localhost/base); only for testing
#                                this script without touching the real tags
#   DEBIAN_MIRROR                debootstrap mirror            (default http://deb.debian.org/debian)
set -euo pipefail
shopt -s inherit_errexit
# This provisions the LOCAL root engines; the CLIs below must not follow a caller's remote ones.
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH CONTAINER_HOST CONTAINER_CONNECTION

LOG_DIR="${CONTAINERS_TOOL_LOG_DIR:-/var/log/containers-tool}"
CACHE_DIR="${CONTAINERS_TOOL_CACHE_DIR:-/var/cache/containers-tool}"
PREFIX="${CONTAINERS_TOOL_BASE_PREFIX:-localhost/base}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BUSYBOX_TAG="$PREFIX/busybox:latest"
DEBIAN_TAG="$PREFIX/debian:12"
DOCKER_SOCK=/var/run/docker.sock
PODMAN_SOCK=/run/podman/podman.sock
CATATONIT=/usr/libexec/podman/catatonit
CONTAINERS_CONF=/etc/containers/containers.conf
PODMAN_COMPOSE_VENV=/opt/podman-compose
LOCK_FILE=/run/lock/containers-tool-provision.lock

# Debian packages, and why:
PACKAGES=(
  docker.io       # Docker Engine (+ containerd, runc, docker-init for `docker run --init`)
  podman          # Podman engine + `podman system service` REST API
  catatonit       # /usr/libexec/podman/catatonit, needed by `podman run --init`
  docker-compose  # compose v1 (`docker-compose`)
  debootstrap     # builds the Debian 12 base rootfs
  busybox-static  # static /bin/busybox for the busybox base rootfs
  curl            # health checks over the unix sockets
  iptables        # dockerd's bridge networking
  uidmap          # newuidmap/newgidmap for podman user namespaces
  criu            # container checkpoint/restore
  python3-venv    # venv for podman-compose (Debian's python3 lacks ensurepip without it)
  openssh-server  # sshd for the remote-engine tests (ssh:// engines; started per test run)
  openssh-client  # ssh, the tunnel to a remote engine's socket (ssh:// endpoints)
)

CHECK_ONLY=0
case "${1:-}" in
  "") ;;
  --check) CHECK_ONLY=1 ;;
  -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

say() { printf '[provision] %s\n' "$*"; }
die() { printf '[provision] ERROR: %s\n' "$*" >&2; exit 1; }
t0=$SECONDS

# --- probes (cheap; no engine CLI involved) ----------------------------------------------------
api_ping() { # socket -> 0 if the engine API answers
  [[ -S "$1" ]] && curl -fsS --max-time 3 --unix-socket "$1" http://d/_ping >/dev/null 2>&1
}
docker_up() { api_ping "$DOCKER_SOCK"; }
podman_up() { api_ping "$PODMAN_SOCK"; }
image_present() { # socket tag -> 0 if the engine has the image (compat API works for both)
  curl -fsS --max-time 3 -o /dev/null --unix-socket "$1" "http://d/images/$2/json" 2>/dev/null
}
sock_of() { [[ "$1" == docker ]] && echo "$DOCKER_SOCK" || echo "$PODMAN_SOCK"; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
podman_compose_ok() { podman-compose --version >/dev/null 2>&1; }

# The containers.conf we want: cap podman's default rlimits at our hard limits, pin runc.
desired_containers_conf() {
  local nofile nproc
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  if [[ "$nofile" == unlimited ]] || ((nofile > 65536)); then nofile=65536; fi
  if [[ "$nproc" == unlimited ]] || ((nproc > 32768)); then nproc=32768; fi
  cat <<EOF
# Managed by containers-tool scripts/provision-engines.sh (see its header for why).
[containers]
# Podman's defaults exceed this machine's hard limits; without CAP_SYS_RESOURCE every run fails.
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
# cgroups v1 machine: runc is the runtime known to work here.
runtime = "runc"
EOF
}
settings_of() { grep -Ev '^[[:space:]]*(#|$)' || true; } # a config minus comments/blank lines
containers_conf_ok() {
  [[ -f "$CONTAINERS_CONF" ]] &&
    [[ "$(settings_of <"$CONTAINERS_CONF")" == "$(desired_containers_conf | settings_of)" ]]
}

# --- --check: report, change nothing ----------------------------------------------------------
if ((CHECK_ONLY)); then
  missing=0
  check() { # label probe... ; never aborts, records what is missing
    local label=$1; shift
    if "$@"; then say "ok       $label"; else say "MISSING  $label"; missing=1; fi
  }
  for p in "${PACKAGES[@]}"; do check "package $p" pkg_installed "$p"; done
  check "$CATATONIT (podman --init)" test -x "$CATATONIT"
  check "podman-compose on PATH" podman_compose_ok
  check "$CONTAINERS_CONF (default_ulimits capped, runtime=runc)" containers_conf_ok
  check "docker API  unix://$DOCKER_SOCK" docker_up
  check "podman API  unix://$PODMAN_SOCK" podman_up
  for e in docker podman; do
    for t in "$BUSYBOX_TAG" "$DEBIAN_TAG"; do
      check "$e image $t" image_present "$(sock_of $e)" "$t"
    done
  done
  ((EUID == 0)) || say "note: not root; root-owned sockets may read as missing"
  ((missing)) && { say "incomplete: run  sudo $0"; exit 1; }
  say "all present"
  exit 0
fi

((EUID == 0)) || die "must run as root (or use --check)"
command -v apt-get >/dev/null || die "apt-get not found: this script targets Debian 12"
mkdir -p "$LOG_DIR" "$CACHE_DIR" "$(dirname "$LOCK_FILE")"

# Two concurrent runs (e.g. parallel test jobs bootstrapping) must not start two dockerds.
exec 9>"$LOCK_FILE"
flock -w 900 9 || die "another provision-engines.sh holds $LOCK_FILE"

# --- 1. packages ---------------------------------------------------------------------------------
missing_pkgs=()
for p in "${PACKAGES[@]}"; do pkg_installed "$p" || missing_pkgs+=("$p"); done
if ((${#missing_pkgs[@]})); then
  say "installing ${missing_pkgs[*]} (log: $LOG_DIR/apt.log)"
  {
    apt-get update &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing_pkgs[@]}"
  } >>"$LOG_DIR/apt.log" 2>&1 || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get failed"; }
fi
[[ -x "$CATATONIT" ]] || die "$CATATONIT missing although catatonit is installed"

# --- 2. podman configuration (before the API service starts: it reads the file once) ----------
if ! containers_conf_ok; then
  mkdir -p "$(dirname "$CONTAINERS_CONF")"
  if [[ -f "$CONTAINERS_CONF" ]] && ! grep -q 'provision' "$CONTAINERS_CONF"; then
    cp -p "$CONTAINERS_CONF" "$CONTAINERS_CONF.orig.$(date +%Y%m%d%H%M%S)"
    say "backed up the existing $CONTAINERS_CONF"
  fi
  desired_containers_conf >"$CONTAINERS_CONF"
  say "wrote $CONTAINERS_CONF"
  podman_up && say "WARNING: the running podman API service predates this config; restart it"
fi

# --- 3. podman-compose: current PyPI release (Debian 12 ships an old 1.0.x) ----------------------
if ! podman_compose_ok; then
  say "installing podman-compose into $PODMAN_COMPOSE_VENV"
  # Debian's python3, not whatever `python3` a pyenv/shim on PATH means: this is a system tool.
  /usr/bin/python3 -m venv --clear "$PODMAN_COMPOSE_VENV" >>"$LOG_DIR/pip.log" 2>&1
  "$PODMAN_COMPOSE_VENV/bin/pip" install -q podman-compose >>"$LOG_DIR/pip.log" 2>&1 ||
    { tail -20 "$LOG_DIR/pip.log" >&2; die "pip install podman-compose failed"; }
  ln -sfn "$PODMAN_COMPOSE_VENV/bin/podman-compose" /usr/local/bin/podman-compose
  podman_compose_ok || die "podman-compose still not runnable"
fi

# --- 4. engines ----------------------------------------------------------------------------------
wait_for() { # probe seconds
  local i
  for ((i = 0; i < $2 * 4; i++)); do "$1" && return 0; sleep 0.25; done
  return 1
}
start_detached() { # log cmd... ; own session so the caller's job control cannot kill it
  local log=$1; shift
  # 9>&-: a daemon must not inherit (and hold forever) the provisioning lock.
  setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
}

if ! docker_up; then
  if pgrep -x dockerd >/dev/null; then
    say "dockerd is running but not answering yet; waiting"
  else
    say "starting dockerd (log: $LOG_DIR/dockerd.log)"
    start_detached "$LOG_DIR/dockerd.log" dockerd
  fi
  wait_for docker_up 60 || { tail -20 "$LOG_DIR/dockerd.log" >&2; die "dockerd did not come up"; }
fi

if ! podman_up; then
  if pgrep -f "podman system service.*$PODMAN_SOCK" >/dev/null; then
    say "podman API service is running but not answering yet; waiting"
  else
    say "starting podman API service at unix://$PODMAN_SOCK (log: $LOG_DIR/podman-service.log)"
    mkdir -p "$(dirname "$PODMAN_SOCK")"
    rm -f "$PODMAN_SOCK" # a stale socket from a dead service (we hold the lock)
    start_detached "$LOG_DIR/podman-service.log" \
      podman system service --time=0 "unix://$PODMAN_SOCK"
  fi
  wait_for podman_up 30 ||
    { tail -20 "$LOG_DIR/podman-service.log" >&2; die "podman API service did not come up"; }
fi

# --- 5. base images (no registry reachable). A rootfs tarball is built (once, cached) only
#     when some engine lacks its image; then it is imported into the engines that lack it. ----
build_busybox_tar() { # out
  local d
  d=$(mktemp -d)
  mkdir -p "$d"/{bin,etc,root,tmp,proc,sys,dev}
  chmod 1777 "$d/tmp"; chmod 700 "$d/root"
  cp /bin/busybox "$d/bin/busybox" # from busybox-static: no shared libraries needed
  local applet
  for applet in $("$d/bin/busybox" --list); do
    [[ -e "$d/bin/$applet" ]] || ln -s busybox "$d/bin/$applet"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/:/bin/false' >"$d/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$d/etc/group"
  tar --numeric-owner -C "$d" -cf "$1" .
  rm -rf "$d"
}
build_debian_tar() { # out
  local d
  d=$(mktemp -d)
  if ! debootstrap --variant=minbase bookworm "$d" "$MIRROR" >>"$LOG_DIR/debootstrap.log" 2>&1; then
    rm -rf "$d"; tail -20 "$LOG_DIR/debootstrap.log" >&2; die "debootstrap failed"
  fi
  rm -rf "$d"/var/cache/apt/archives/*.deb "$d"/var/lib/apt/lists/* "$d"/var/log/*.log
  tar --numeric-owner -C "$d" -cf "$1" .
  rm -rf "$d"
}
TARBALL=""
ensure_tarball() { # name builder note -> sets TARBALL; built atomically, so a crash leaves no half file
  TARBALL="$CACHE_DIR/$1.tar"
  if [[ ! -s "$TARBALL" ]]; then
    say "building the $1 rootfs into $TARBALL$3"
    "$2" "$TARBALL.partial"
    mv -f "$TARBALL.partial" "$TARBALL"
  fi
}
ensure_image() { # tag name builder note ; imports only into the engines that lack the tag
  local tag=$1 e out
  for e in docker podman; do
    image_present "$(sock_of $e)" "$tag" && continue
    ensure_tarball "$2" "$3" "$4"
    say "importing $tag into $e"
    out=$("$e" import --change 'CMD ["/bin/sh"]' "$TARBALL" "$tag" 2>&1) ||
      { printf '%s\n' "$out" >&2; die "$e import of $tag failed"; }
  done
}
ensure_image "$BUSYBOX_TAG" busybox build_busybox_tar ""
ensure_image "$DEBIAN_TAG" debian12 build_debian_tar " (debootstrap from $MIRROR, ~1 min)"

# --- 6. smoke test: what the tool relies on, --init included ----------------------------------
smoke() { # label engine-cmd...
  local label=$1 out; shift
  out=$("$@" run --rm --init "$BUSYBOX_TAG" true 2>&1) ||
    { printf '%s\n' "$out" >&2; die "smoke test failed: $label run --rm --init"; }
}
smoke docker docker
smoke podman podman
smoke "podman API" podman --remote --url "unix://$PODMAN_SOCK" # the path the podman SDK takes

docker_v=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')
podman_v=$(podman version --format '{{.Version}}' 2>/dev/null || echo '?')
say "ready in $((SECONDS - t0)) s: docker $docker_v (unix://$DOCKER_SOCK), podman $podman_v (unix://$PODMAN_SOCK), images $BUSYBOX_TAG + $DEBIAN_TAG in both, run --init ok"
