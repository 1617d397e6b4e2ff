#!/usr/bin/env bash
# Makes sure the system libraries DRLRec links are there: OpenBLAS with CBLAS (found through its
# openblas.pc), LAPACKE (lapacke.h and liblapacke) and pkg-config. When pkg-config already finds
# them, nothing else is asked, whatever the system. Otherwise, on Debian and Ubuntu the missing
# packages are installed with apt-get; elsewhere it says what to install and exits non-zero.
# With --mpi, Open MPI too (mpirun, and the libmpi it starts `drlrec fit` with): the distributed
# build's only addition, since DRLRec loads Open MPI at run time and builds without it.
set -euo pipefail
mpi=false
[ "${1:-}" = "--mpi" ] && mpi=true
mpi_found() { command -v mpirun >/dev/null 2>&1; }

# LAPACKE: its own .pc file (Debian's liblapacke-dev), or its header beside OpenBLAS's (OpenBLAS
# builds that bundle LAPACKE, as Homebrew's does) or in a standard include folder.
lapacke_found() {
    pkg-config --exists lapacke 2>/dev/null && return 0
    local dir
    for dir in $(pkg-config --cflags-only-I openblas 2>/dev/null | sed 's/-I//g') /usr/include /usr/local/include; do
        [ -f "$dir/lapacke.h" ] && return 0
    done
    return 1
}

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openblas && lapacke_found && { ! $mpi || mpi_found; }; then
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<'MSG'
DRLRec needs OpenBLAS (cblas.h and openblas.pc), LAPACKE (lapacke.h, liblapacke) and pkg-config,
and pkg-config does not find them all here ('pkg-config --exists openblas' and lapacke.h).
Install them with your package manager, then run the command again:
  Fedora:           sudo dnf install openblas-devel lapack-devel pkgconf-pkg-config
  macOS (Homebrew): brew install openblas lapack pkg-config, then
                    export PKG_CONFIG_PATH="$(brew --prefix openblas)/lib/pkgconfig:$PKG_CONFIG_PATH"
  Debian, Ubuntu:   sudo apt-get install libopenblas-dev liblapacke-dev pkg-config
If they are installed in another place, add the folder of openblas.pc to PKG_CONFIG_PATH.
For data-parallel training (--mpi), Open MPI: dnf install openmpi, brew install open-mpi,
apt-get install openmpi-bin.
MSG
    exit 1
fi

packages=(libopenblas-dev liblapacke-dev pkg-config)
if $mpi; then packages+=(openmpi-bin); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "The packages ${packages[*]} are installed, but pkg-config does not find OpenBLAS and LAPACKE: check PKG_CONFIG_PATH." >&2
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
