# scripts/lib.sh - shared set-up for scripts/run and scripts/test: Debian packages, the build,
# and a private PostgreSQL cluster. Sourced, not run.
#
# The private cluster lives in "$DIRECTORYD_VAR/pg" (never the system cluster), listens on
# 127.0.0.1 only, and is run as an unprivileged user when we are root (PostgreSQL refuses root).

DIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the project needs to build, run and test.
DIR_PACKAGES="build-essential cmake pkg-config git ca-certificates util-linux
  postgresql postgresql-client libpq-dev
  libmicrohttpd-dev libjansson-dev libldap2-dev libsodium-dev libcmocka-dev libssl-dev openssl
  zlib1g-dev
  ldap-utils slapd python3 python3-pytest python3-ldap python3-vobject python3-jsonschema curl
  python3-prometheus-client"

# What the libFuzzer build (scripts/fuzz, the fuzz step of scripts/test) needs besides them:
# Debian 12's clang 14 and its runtimes (libFuzzer, ASan, UBSan).
DIR_FUZZ_PACKAGES="clang libclang-rt-14-dev"

# What the browser tests of the web UI (tests/ui, a step of scripts/test) need besides them:
# Debian's Chromium (Playwright drives /usr/bin/chromium; it never downloads a browser), the
# Thai fonts it renders the UI with, poppler-utils (pdftotext, pdffonts, pdftoppm: scripts/print
# and the printed directory's test read the PDF back), and Node.js with npm when the machine has none.
DIR_UI_PACKAGES="chromium fonts-thai-tlwg poppler-utils"

# The Active Directory the sync tests provision for themselves (a Samba AD DC, in a network
# namespace of its own: `ip` brings its loopback up; samba-ad-provision holds the AD schema that
# provisioning reads, only recommended by samba since 4.17.12+dfsg-0+deb12u4). Tests only;
# scripts/run never needs it.
DIR_AD_PACKAGES="samba samba-ad-dc samba-ad-provision iproute2"

# pkg: checking the Debian package (docs/operations.md "Install and package"; scripts/test
# installs it for tests/integration/test_package.py, which fails on a lintian error); cpack,
# dpkg-shlibdeps and systemd-analyze come with DIR_PACKAGES (cmake, build-essential) and systemd.
DIR_PKG_PACKAGES="lintian"

dir_say() { printf '%s\n' "directoryd: $*" >&2; }

# Installs the Debian packages that are missing (apt-get; needs root or sudo).
dir_install_packages() {
    local missing="" p
    for p in $DIR_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    dir_say "installing Debian packages:$missing"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    # slapd must not ask questions or start a system server we do not use.
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
    # Samba's install may start its services: not ours to run (the tests start their own DC),
    # so they are stopped and disabled, only when this install brought them.
    case " $missing " in *" samba "*|*" samba-ad-dc "*)
        if [ -d /run/systemd/system ]; then
            $sudo systemctl disable --now smbd nmbd samba-ad-dc winbind >/dev/null 2>&1 || true
        fi ;;
    esac
}

# The newest installed PostgreSQL server's bin directory.
dir_pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] || { dir_say "no PostgreSQL server installed"; return 1; }
    printf '%s\n' "$d"
}

# Builds into "$1" (default build/) with extra cmake arguments after it.
dir_build() {
    local bdir=${1:-$DIR_ROOT/build}
    shift || true
    cmake -S "$DIR_ROOT" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$bdir" -j "$(nproc)" >/dev/null
}

# A free TCP port on 127.0.0.1.
dir_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c) into "$1" (default build-fuzz/) with
# clang, dircore instrumented for libFuzzer, ASan and UBSan; the daemon and unit tests are not
# built there.
dir_build_fuzz() {
    local bdir=${1:-$DIR_ROOT/build-fuzz}
    CC=clang cmake -S "$DIR_ROOT" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DDIRECTORYD_FUZZ=ON -DDIRECTORYD_TESTS=OFF >/dev/null
    cmake --build "$bdir" -j "$(nproc)" >/dev/null
}
