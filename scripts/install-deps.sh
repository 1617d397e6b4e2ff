#!/usr/bin/env bash
# Installs the system libraries DRLRec links (OpenBLAS with CBLAS, LAPACKE) and pkg-config when
# they are missing. Debian and Ubuntu only; elsewhere it says what to install and exits non-zero.
set -euo pipefail

packages=(libopenblas-dev liblapacke-dev pkg-config)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<MSG
DRLRec needs OpenBLAS (with cblas.h and an openblas.pc for pkg-config), LAPACKE (lapacke.h) and
pkg-config. This system has no apt-get: install the equivalents of the Debian packages
${missing[*]} with your package manager (for example openblas-devel, lapack-devel and pkgconf on
Fedora), then run the command again.
MSG
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "DRLRec needs the packages ${missing[*]}; run as root or install sudo, then try again." >&2
    exit 1
fi

echo "Installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
