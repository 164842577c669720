#!/bin/sh
# Fetch the kernels of the test matrix from Debian's archive and unpack each
# into $KERNELS_DIR/NAME (the layout tests/kernels/boot.sh boots), and the
# static busybox of the guests' initramfs into $KERNELS_DIR/busybox.
#
#   tests/kernels/fetch.sh [NAME ...]      default: every kernel of matrix.txt
#
# apt runs with a private configuration (its own source list, lists, cache
# and an empty dpkg status), so the system's apt setup is never touched; the
# archive URI is the one this machine's apt sources already use.  A kernel
# already unpacked at the matrix's version is kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KERNELS_DIR=${KERNELS_DIR:-/var/cache/sysmon-kernels}
apt_dir=$KERNELS_DIR/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"

# The archive this machine already uses (deb822 or one-line sources).
uri=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
[ -n "$uri" ] || uri=$(sed -n 's/^deb \(\[[^]]*\] \)\?\(http[^ ]*\/debian\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
key=/usr/share/keyrings/debian-archive-keyring.gpg
{
	for suite in bullseye bookworm bookworm-backports trixie trixie-backports; do
		echo "deb [signed-by=$key] $uri $suite main"
	done
	echo "deb [signed-by=$key] ${uri%/debian}/debian-security bookworm-security main"
} > "$apt_dir/sources.list"

apt_opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/nonexistent
 -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o Dir::State::status=/dev/null
 -o APT::Architecture=amd64 -o Acquire::Languages=none -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
# shellcheck disable=SC2086
apt_get() { apt-get $apt_opts "$@"; }
# shellcheck disable=SC2086
apt_cache() { apt-cache $apt_opts "$@"; }

# The lists are refreshed at most once a day.
if [ -z "$(find "$apt_dir/lists" -name '*Packages*' -mtime -1 2>/dev/null | head -n1)" ]; then
	apt_get -qq update
fi

# The packages a metapackage version pulls in that hold a kernel: the image,
# and for the split 7.x packaging its binary and modules.
kernel_packages() {	# PACKAGE=VERSION
	apt_cache show "$1" 2>/dev/null | sed -n '1,/^$/s/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\(linux-\(image\|binary\|modules\)-[0-9][^ ]*\) (= \([^)]*\)).*/\1=\3/p'
}

fetch_one() {	# NAME SUITE
	name=$1 suite=$2
	version=$(apt_cache madison linux-image-amd64 | awk -v s="$suite" '$0 ~ " "s"/main " {print $3; exit}')
	[ -n "$version" ] || { echo "fetch: no linux-image-amd64 in $suite" >&2; return 1; }
	dest=$KERNELS_DIR/$name
	if [ "$(cat "$dest/.version" 2>/dev/null)" = "$version" ]; then
		echo "$name: $version (cached)"; return 0
	fi
	pkgs=$(kernel_packages "linux-image-amd64=$version")
	for p in $pkgs; do pkgs="$pkgs $(kernel_packages "$p")"; done
	pkgs=$(printf '%s\n' $pkgs | sort -u)
	rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
	(cd "$apt_dir/debs" && apt_get -qq download $pkgs)
	for p in $pkgs; do
		n=${p%%=*} v=${p#*=}
		dpkg -x "$apt_dir/debs/${n}_$(echo "$v" | sed 's/:/%3a/')_amd64.deb" "$dest.tmp"
	done
	rm -rf "$dest"; mv "$dest.tmp" "$dest"
	echo "$version" > "$dest/.version"
	rm -f "$apt_dir"/debs/*.deb
	echo "$name: $version ($(echo $pkgs | tr '\n' ' '))"
}

# The initramfs's shell and tools (the system's busybox, if any, may be dynamic).
if [ ! -x "$KERNELS_DIR/busybox" ]; then
	(cd "$apt_dir/debs" && apt_get -qq download busybox-static/bookworm)
	x=$(mktemp -d)
	dpkg -x "$apt_dir"/debs/busybox-static_*.deb "$x"
	cp "$x/bin/busybox" "$KERNELS_DIR/busybox"
	rm -rf "$x" "$apt_dir"/debs/*.deb
fi

names=${*:-$(awk '!/^#/ && $2 != "host" {print $1}' "$here/matrix.txt")}
for name in $names; do
	suite=$(awk -v n="$name" '$1 == n {print $2}' "$here/matrix.txt")
	[ -n "$suite" ] || { echo "fetch: $name is not in $here/matrix.txt" >&2; exit 2; }
	[ "$suite" = host ] && continue
	fetch_one "$name" "$suite"
done
