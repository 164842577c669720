#!/bin/sh
# The main job, on a fresh Debian 12 machine, as root: install the packages
# sysmon needs, build it, install it and start monitoring now and at every
# boot with configs/default.xml (or the Sysmon config given as argument).
# Run it again after pulling changes: it reinstalls, keeping the event log.
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
	echo "start.sh: installing a system monitor needs root: sudo ./start.sh [CONFIG]" >&2
	exit 1
fi
config=$(realpath "${1:-configs/default.xml}")
sh tests/install-deps.sh
make -j"$(nproc)"
if [ -e /etc/sysmon ] || [ -e /usr/bin/sysmon ]; then
	# an earlier install: replace it, the log stays, and its eBPF programs
	# record on for the new monitor (docs/restart.md)
	build/sysmon -u upgrade
fi
make install
exec /usr/bin/sysmon -accepteula -i "$config"
