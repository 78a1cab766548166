#!/bin/sh
# Installs what lunox needs from Debian 12's packages, only when something is
# missing (so `make` stays fast once set up). Run as root, or with sudo
# available for apt-get.
#   sh scripts/setup.sh         what building and testing need
#   sh scripts/setup.sh fuzz    clang and its libFuzzer/sanitizer runtimes
#   sh scripts/setup.sh bench   the benchmarks' peers: NumPy and PyTorch
set -eu

# python3-numpy: the serialisation specs check that NumPy reads what lunox
# writes, byte for byte. locales: the JSON spec compiles a decimal-comma
# locale to check that numbers do not follow the C locale.
PACKAGES="build-essential cmake pkg-config
  lua5.4 liblua5.4-dev luajit libluajit-5.1-dev
  lua-busted lua-system lua-term lua-filesystem
  libopenblas-dev libreadline-dev
  libvulkan-volk-dev libvulkan-dev mesa-vulkan-drivers glslc vulkan-validationlayers
  python3-numpy locales"
case "${1:-}" in
  fuzz) PACKAGES="clang libclang-rt-14-dev" ;;
  bench) PACKAGES="python3-numpy python3-torch" ;;
esac

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
