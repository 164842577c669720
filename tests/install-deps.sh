#!/bin/sh
# Install the Debian 12 packages that building, running and testing sysmon
# need (build: compilers and -dev packages; tests: cmocka, pytest, rsyslog
# with its TLS and RELP modules, openssl, iproute2; liblzma for .ko.xz module
# signatures; the kernel matrix: qemu, kmod, cpio, xz, zstd, and systemd,
# which a guest boots as PID 1).  Installs only what is missing.
set -e
pkgs="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev liblzma-dev pkg-config
      libxml2-dev libsqlite3-dev libssl-dev librelp-dev libcmocka-dev python3-pytest
      rsyslog rsyslog-openssl rsyslog-relp openssl iproute2 sqlite3 procps util-linux bind9-dnsutils
      qemu-system-x86 kmod cpio xz-utils zstd systemd"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: these packages are missing:$missing (run as root to install them)" >&2
	exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
