#!/usr/bin/env bash
# A Debian bookworm base image with Python, built from Debian packages, for
# machines that reach package mirrors but no registry of container images.
#   scripts/build_base_image.sh [TAG]        (default localhost/sentiment-base:bookworm)
# Uses the host's own apt sources, so the same mirrors (or snapshot) serve both.
# Needs: podman mmdebstrap (run as root, as CI does).
set -euo pipefail

tag="${1:-localhost/sentiment-base:bookworm}"
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

# The host's sources: deb822 *.sources files and one-line *.list files, both of
# which mmdebstrap reads from a file path. Disabled files keep other suffixes.
sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list.d/*.list; do
    [ -s "$file" ] && sources+=("$file")
done
if [ "${#sources[@]}" -eq 0 ]; then
    echo "error: no apt sources in /etc/apt; mmdebstrap needs a Debian mirror" >&2
    exit 2
fi

echo "base image $tag from ${sources[*]}" >&2
# minbase: essential packages and apt only. python3-venv because Debian's pip
# may not install into the system Python (PEP 668); passwd for useradd.
# Check-Valid-Until: snapshot mirrors serve Release files past their date.
mmdebstrap --variant=minbase --format=tar --quiet \
    --include=python3,python3-venv,passwd,ca-certificates \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm - "${sources[@]}" |
    podman import \
        --change 'CMD ["/bin/bash"]' \
        --change 'ENV LANG=C.UTF-8' \
        - "$tag"
