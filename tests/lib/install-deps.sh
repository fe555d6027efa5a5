#!/bin/sh
# Installs what building, the demo and the tests need, from Debian's packages.
# Does nothing when everything is there; uses sudo when not root.
# debhelper .. systemd-container: `make deb`, `make check-package` and tests/integration/package.sh
# (debootstrap + systemd-nspawn boot a bookworm root with a real systemd).
set -eu
PKGS="build-essential pkg-config libevent-dev libcurl4-openssl-dev librabbitmq-dev
libjson-c-dev libconfig-dev libsystemd-dev libssl-dev check rabbitmq-server rsyslog
liblognorm-utils socat python3 python3-pika valgrind openssl iproute2 ca-certificates procps
nftables clang libclang-rt-dev llvm prometheus python3-fusepy
debhelper fakeroot dpkg-dev lintian mandoc debootstrap systemd-container"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
# syslog-ng for the sink tests: unpacked into a cache dir, never apt-installed (it would
# remove rsyslog); does nothing when it is there already.
if [ -z "$missing" ]; then
	sh "$(dirname "$0")/syslog-ng-setup.sh"
	exit 0
fi
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
# rabbitmq-server's postinst starts the system broker where systemd runs; the
# tests never use it (they start private nodes), so keep it from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing </dev/null
sh "$(dirname "$0")/syslog-ng-setup.sh"
