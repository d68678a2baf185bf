#!/bin/sh
# Install what pressmon needs to build and test, if it is missing.
#   tools/deps.sh          build + unit/integration test dependencies
#   tools/deps.sh servers  also the metric servers the exporter tests push to
# Debian/Ubuntu: installs with apt-get (as root, or through sudo).
# macOS: prints the Homebrew line (nothing is installed behind your back).
set -eu

case "$(uname -s)" in
Darwin)
    echo "pressmon on macOS needs: brew install pkg-config sqlite curl jansson cmocka protobuf-c snappy"
    exit 0
    ;;
esac

# libcurl4-openssl-dev and libsnappy-dev bring libcurl4 and libsnappy1v5,
# the libraries push loads at run time (exporters/curl_dl.c, snappy_dl.c);
# the build itself only uses their headers.  libprotobuf-c-dev is for the
# unit tests (test_encode checks pressmon's protobuf against it; libsnappy
# there too), protobuf-c-compiler for `make proto`.
pkgs="build-essential pkg-config libsqlite3-dev sqlite3 libcurl4-openssl-dev libjansson-dev \
libcmocka-dev libprotobuf-c-dev protobuf-c-compiler libsnappy-dev zlib1g-dev procps util-linux perl python3"
if [ "${1:-}" = servers ]; then
    pkgs="$pkgs prometheus prometheus-pushgateway victoria-metrics influxdb curl python3 openssl"
fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "pressmon: missing packages:$missing (no apt-get here: install them with your package manager)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "pressmon: missing packages:$missing; run as root: apt-get install$missing" >&2
        exit 1
    fi
fi
echo "pressmon: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Servers must not start as system services on install: the tests start their own.
if [ "${1:-}" = servers ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
