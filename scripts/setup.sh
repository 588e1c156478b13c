#!/usr/bin/env bash
# Installs the host tools keyway's tests drive for real (Debian 12), and Node.js 24 into .node/ when
# the system's node is another line (keyway needs >= 22.13; CI tests on 24). Idempotent; needs root
# for the Debian packages.
set -euo pipefail
packages=(podman runc docker.io bubblewrap pass gnupg systemd busybox-static uidmap openssl util-linux iproute2 procps zsh docker-compose binutils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: host packages present"
cd "$(dirname "$0")/.."
if [[ "$(node --version 2>/dev/null)" != v24.* ]]; then
  ./scripts/install-node.sh 24 .node
  echo "setup: $(.node/bin/node --version) in .node/bin (./scripts/npm puts it first on PATH)"
fi
