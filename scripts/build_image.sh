#!/usr/bin/env bash
# Build the project's image with podman, from a base made of Debian packages
# (no registry of container images is needed), and print its build time and size.
#   scripts/build_image.sh [TAG]      (default localhost/sentiment:latest)
# Environment: BASE_IMAGE (default localhost/sentiment-base:bookworm; built by
# scripts/build_base_image.sh when missing), SKIP_BASE=1 to use BASE_IMAGE as is
# (e.g. python:3.11.7-slim-bookworm where a registry is reachable).
# Needs: podman runc (and mmdebstrap for the base), as root.
set -euo pipefail

tag="${1:-localhost/sentiment:latest}"
base="${BASE_IMAGE:-localhost/sentiment-base:bookworm}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

start=$(date +%s)
if [ "${SKIP_BASE:-0}" != 1 ] && ! podman image exists "$base"; then
    "$here/build_base_image.sh" "$base"
fi
base_done=$(date +%s)

# The host's CA bundle, read-only: pip inside the build reaches the package
# index only through it here. --format docker keeps the HEALTHCHECK (OCI drops it).
ca_bundle=/etc/ssl/certs/ca-certificates.crt
volumes=()
[ -f "$ca_bundle" ] && volumes=(-v "$ca_bundle:$ca_bundle:ro")
podman build --format docker --layers=false --build-arg "BASE=$base" \
    "${volumes[@]}" --tag "$tag" "$root"
done_at=$(date +%s)

size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "image $tag: base $((base_done - start)) s, build $((done_at - base_done)) s," \
    "size $((size / 1000000)) MB"
