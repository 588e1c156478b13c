#!/bin/sh
# Builds the managed plugin: image → rootfs + config.json → `docker plugin create`.
# Usage: deploy/docker-plugin/build.sh [PLUGIN_NAME]   (default keyway/keyway:latest)
set -eu
name=${1:-keyway/keyway:latest}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"; docker rm -f keyway-plugin-rootfs >/dev/null 2>&1 || true' EXIT
docker build -f "$here/Dockerfile" -t keyway-plugin-rootfs "$repo"
docker create --name keyway-plugin-rootfs keyway-plugin-rootfs >/dev/null
mkdir -p "$work/rootfs"
docker export keyway-plugin-rootfs | tar -x -C "$work/rootfs"
cp "$here/config.json" "$work/config.json"
docker plugin create "$name" "$work"
echo "created $name; enable it with: docker plugin enable $name"
