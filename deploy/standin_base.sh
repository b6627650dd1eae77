#!/usr/bin/env bash
# Build a local STAND-IN for the image the Dockerfile starts FROM, python:3.11-slim-bookworm, out of
# Debian packages, for machines that reach Debian's and PyPI's servers but no container registry
# (so the real base image cannot be pulled). The project's container tests run it in their set-up.
#
# It is a stand-in, not the official image: Debian bookworm (debootstrap --variant=minbase) with
# Debian's python3 (3.11) and a venv at /usr/local, so that `python` and `pip` are on PATH and pip
# installs into /usr/local as in the official image. It also trusts this machine's CA bundle
# (PIP_CERT), for networks that inspect TLS. Where a registry is reachable, use the real image
# (`docker pull python:3.11-slim-bookworm`) and skip this script: the Dockerfile is written for it.
#
#   sudo deploy/standin_base.sh          # idempotent: does nothing when the tag already exists
#   FORCE=1 sudo deploy/standin_base.sh  # build it again
#
# Settings (environment): DEBIAN_MIRROR (default http://deb.debian.org/debian), CA_BUNDLE (default
# /etc/ssl/certs/ca-certificates.crt), TMPDIR (scratch space, default /var/tmp; about 300 MB).
# Needs root, podman and debootstrap (Debian: apt-get install podman buildah runc debootstrap).
set -euo pipefail

TAG=python:3.11-slim-bookworm
# `FROM python:3.11-slim-bookworm` with --pull=never resolves to either name, depending on the
# registries configuration; both point at the same image.
NAMES=("localhost/$TAG" "docker.io/library/$TAG")
ROOTFS_TAG=localhost/standin-debian:bookworm-minbase
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
# Build flags that work on hosts whose cgroups crun refuses and where runc cannot set rlimits in a
# build (see deploy/README.md); --format docker keeps HEALTHCHECK and friends.
BUILD_FLAGS=(--isolation=chroot --network host --format docker --pull=never)

log() { printf '[standin-base] %s\n' "$*" >&2; }
die() {
    printf '[standin-base] ERROR: %s\n' "$*" >&2
    exit 1
}

command -v podman >/dev/null 2>&1 || die "podman is not installed: apt-get install podman buildah runc debootstrap"

if [ -z "${FORCE:-}" ] && podman image exists "docker.io/library/$TAG" && podman image exists "localhost/$TAG"; then
    log "$TAG is already there (FORCE=1 builds it again)."
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root: run it with sudo."
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed: apt-get install debootstrap"
[ -f "$CA_BUNDLE" ] || die "the CA bundle $CA_BUNDLE does not exist: set CA_BUNDLE to this machine's bundle."

work=$(mktemp -d "${TMPDIR:-/var/tmp}/standin-base.XXXXXX")
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT

# 1. A minimal Debian bookworm root file system, imported as an image (kept: a rerun only redoes step 2).
if [ -n "${FORCE:-}" ] || ! podman image exists "$ROOTFS_TAG"; then
    log "debootstrap bookworm from $DEBIAN_MIRROR (about a minute) ..."
    debootstrap --variant=minbase bookworm "$work/rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
        die "debootstrap failed; its last lines: $(tail -n 5 "$work/debootstrap.log")"
    # The sources the official image has: the release, its updates and the security archive.
    rm -f "$work/rootfs/etc/apt/sources.list"
    cat >"$work/rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    tar -C "$work/rootfs" --numeric-owner -c . | podman import --change 'CMD ["bash"]' - "$ROOTFS_TAG" >/dev/null
    rm -rf "$work/rootfs"
fi

# 2. Python as the official image lays it out: python, pip on PATH, packages under /usr/local.
mkdir -p "$work/context"
cp -- "$CA_BUNDLE" "$work/context/build-host-ca-certificates.crt"
cat >"$work/context/Containerfile" <<EOF
FROM $ROOTFS_TAG
ENV LANG=C.UTF-8 \\
    PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \\
    && rm -rf /var/lib/apt/lists/* \\
    && python3 -m venv --clear /usr/local \\
    && /usr/local/bin/python -m pip --version
# This machine's CA bundle: pip (and every client that honours these variables) trusts it.
COPY build-host-ca-certificates.crt /etc/ssl/certs/build-host-ca-certificates.crt
ENV PIP_CERT=/etc/ssl/certs/build-host-ca-certificates.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/build-host-ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/build-host-ca-certificates.crt
LABEL org.opencontainers.image.description="Stand-in for $TAG built from Debian packages (no registry reachable)"
CMD ["python3"]
EOF
log "installing python3 and a venv at /usr/local ..."
tags=()
for name in "${NAMES[@]}"; do tags+=(-t "$name"); done
podman build "${BUILD_FLAGS[@]}" "${tags[@]}" -f "$work/context/Containerfile" "$work/context" >"$work/build.log" 2>&1 ||
    die "building the stand-in failed; its last lines: $(tail -n 10 "$work/build.log")"
log "done: $TAG ($(podman --runtime runc run --rm --ulimit host --network host "docker.io/library/$TAG" python --version 2>&1))"
