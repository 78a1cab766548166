#!/bin/sh
# Installs what lunox needs from Debian 12's packages, only when something is
# missing (so `make` stays fast once set up). Run as root, or with sudo
# available for apt-get.
set -eu

PACKAGES="build-essential cmake pkg-config
  lua5.4 liblua5.4-dev luajit libluajit-5.1-dev
  lua-busted lua-system lua-term lua-filesystem
  libopenblas-dev libreadline-dev
  libvulkan-volk-dev libvulkan-dev mesa-vulkan-drivers glslc vulkan-validationlayers"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
