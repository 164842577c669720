#!/bin/bash
# Boot a kernel of the matrix under qemu and run one command in it as root:
#
#   tests/kernels/boot.sh [--systemd] KERNEL_DIR 'COMMAND'
#
# KERNEL_DIR is a kernel as tests/kernels/fetch.sh unpacks it (boot/vmlinuz-VER
# and lib/modules/VER (or usr/lib/modules/VER, as 6.12 has it), or the split
# 7.x layout usr/lib/modules/VER/vmlinuz).
# The guest's root is this machine's / over 9p, read-only, under a throwaway
# tmpfs overlay; COMMAND runs with bash in the caller's directory, its output
# (stdout and stderr) is ours, its exit status is ours: 124 a timeout, 125 the
# guest did not boot or run it.  The kernel's console goes to a log that is
# printed when the guest fails.
#
# Without --systemd the command runs right after the root is mounted, from a
# shell that is PID 1.  With --systemd, /lib/systemd/systemd becomes PID 1 and
# boots multi-user.target; a oneshot unit runs COMMAND once the target is
# reached and powers the guest off.  Units of this machine that a test guest
# must not start (databases, gettys) are masked in the overlay.
#
# An equivalent of ../shared/kmatrix/run-in-kernel.sh, kept in the project so
# that a clean clone runs the matrix and can boot systemd.  Environment:
#   KERNELS_DIR  where fetch.sh keeps the kernels and busybox (/var/cache/sysmon-kernels)
#   KMX_APPEND   extra kernel command line (5.10 needs lsm=...,bpf for BPF LSM)
#   KMX_MEM      guest memory (2G), KMX_SMP vCPUs (2), KMX_TIMEOUT seconds (1800)
#   KMX_ACCEL    tcg (default; KVM does not boot these kernels here) or kvm
set -euo pipefail

systemd=0
[ "${1:-}" = --systemd ] && { systemd=1; shift; }
[ $# -eq 2 ] || { echo "usage: $0 [--systemd] KERNEL_DIR 'COMMAND'" >&2; exit 2; }
kdir=$(readlink -f "$1") cmd=$2
KERNELS_DIR=${KERNELS_DIR:-/var/cache/sysmon-kernels}
busybox=$KERNELS_DIR/busybox

vmlinuz=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
if [ -n "$vmlinuz" ]; then
	ver=${vmlinuz##*/vmlinuz-} modbase=$kdir
	# trixie's packages (6.12) keep the modules under usr/ beside boot/
	[ -d "$kdir/lib/modules/$ver" ] || modbase=$kdir/usr
else
	vmlinuz=$(ls "$kdir"/usr/lib/modules/*/vmlinuz 2>/dev/null | head -n1 || true)
	[ -n "$vmlinuz" ] || { echo "boot: no kernel under $kdir (run tests/kernels/fetch.sh)" >&2; exit 125; }
	ver=$(basename "$(dirname "$vmlinuz")") modbase=$kdir/usr
fi
moddir=$modbase/lib/modules/$ver
[ -s "$moddir/modules.dep" ] || depmod -b "$modbase" "$ver"
[ -x "$busybox" ] || { echo "boot: no static busybox at $busybox (run tests/kernels/fetch.sh)" >&2; exit 125; }
for tool in qemu-system-x86_64 modprobe cpio xz zstd timeout; do
	command -v $tool >/dev/null || { echo "boot: $tool is missing (run tests/install-deps.sh)" >&2; exit 125; }
done

# The initramfs: busybox, the modules that mount the 9p root and the overlay,
# and an init that switches to the overlay and runs stage2 from the run folder.
initrd=$KERNELS_DIR/initrd-$ver.cpio
if [ ! -s "$initrd" ] || [ "$initrd" -ot "$0" ]; then
	w=$(mktemp -d)
	mkdir -p "$w"/bin "$w"/mods "$w"/proc "$w"/sys "$w"/dev "$w"/lower "$w"/upper "$w"/newroot
	cp "$busybox" "$w/bin/busybox"
	for m in virtio_pci 9pnet_virtio 9p overlay; do	# none for a built-in one
		modprobe -d "$modbase" -S "$ver" --show-depends "$m" 2>/dev/null || true
	done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r ko; do
		n=$(basename "$ko"); n=${n%.xz}; n=${n%.zst}
		case $ko in
		*.xz) xz -dc "$ko" > "$w/mods/$n" ;;
		*.zst) zstd -qdc "$ko" > "$w/mods/$n" ;;
		*) cp "$ko" "$w/mods/$n" ;;
		esac
		echo "$n" >> "$w/mods/list"
	done
	cat > "$w/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/list 2>/dev/null); do insmod /mods/$m || echo "boot: insmod $m failed"; done
fail() { echo "boot: $*"; reboot -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose root /lower || fail "9p root"
mount -t tmpfs -o mode=0755 tmpfs /upper; mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || fail overlay
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mkdir -p /newroot/run/kmx/share
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none kmx /newroot/run/kmx/share || fail "9p run folder"
cp /bin/busybox /newroot/run/kmx/busybox
for d in proc sys dev; do mount --move /$d /newroot/$d; done
exec switch_root /newroot /run/kmx/busybox sh /run/kmx/share/stage2.sh
EOF
	chmod +x "$w/init"
	(cd "$w" && find . | sort | cpio -o -H newc --quiet) > "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$w"
fi

run=$(mktemp -d "${TMPDIR:-/tmp}/sysmon-boot.XXXXXX")
trap 'rm -rf "$run"' EXIT
printf '%s\n' "$cmd" > "$run/cmd.sh"
# The command's line in both modes: output to the second serial port, status
# to the run folder.
run_cmd="cd '$PWD' && /bin/bash /run/kmx/share/cmd.sh < /dev/null > /dev/ttyS1 2>&1; echo \$? > /run/kmx/share/rc"
unit_cmd=$(printf '%s' "$run_cmd" | sed 's/\$/$$/g')   # a unit's ExecStart= writes $ as $$
cat > "$run/stage2.sh" <<EOF
B=/run/kmx/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root LOGNAME=root TERM=dumb
mkdir -p /lib/modules/$ver && \$B mount --bind '$moddir' /lib/modules/$ver
# The kernel's config (libbpf's __kconfig) and symbol map where a distribution has them.
for f in config System.map; do
	for src in '$kdir'/boot/\$f-$ver '$moddir'/\$f; do
		[ -e "\$src" ] && { mkdir -p /boot; ln -sf "\$src" /boot/\$f-$ver; break; }
	done
done
\$B hostname sysmon-guest
# /tmp as on a disk: the overlay lacks O_TMPFILE and birth times before 6.6.
\$B mount -t tmpfs -o mode=1777 tmpfs /tmp
\$B stty -F /dev/ttyS1 raw -echo
EOF
if [ $systemd = 0 ]; then
	cat >> "$run/stage2.sh" <<EOF
\$B mkdir -p /dev/pts /dev/shm
\$B mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
\$B mount -t tmpfs tmpfs /dev/shm
\$B mount -t tracefs tracefs /sys/kernel/tracing
\$B mount -t debugfs debugfs /sys/kernel/debug
\$B mount -t securityfs securityfs /sys/kernel/security
\$B mount -t bpf bpf /sys/fs/bpf
\$B mount -t cgroup2 cgroup2 /sys/fs/cgroup
\$B ln -sf /proc/self/fd /dev/fd
\$B ip link set lo up
$run_cmd
\$B sync
\$B reboot -f
EOF
else
	cat >> "$run/stage2.sh" <<EOF
for unit in \$(cd /etc/systemd/system/multi-user.target.wants && ls) getty@tty1.service \\
	serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer man-db.timer; do
	case \$unit in rsyslog.service|remote-fs.target) continue ;; esac
	\$B ln -sf /dev/null /etc/systemd/system/\$unit
done
cat > /etc/systemd/system/kmx-command.service <<'UNIT'
[Unit]
Description=The test command of tests/kernels/boot.sh
After=multi-user.target
IgnoreOnIsolate=yes
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/bin/bash -c "$unit_cmd"
UNIT
mkdir -p /etc/systemd/system/multi-user.target.wants
\$B ln -sf ../kmx-command.service /etc/systemd/system/multi-user.target.wants/kmx-command.service
exec /lib/systemd/systemd
EOF
fi

case ${KMX_ACCEL:-tcg} in
kvm) accel=(-accel kvm -cpu host) ;;
*) accel=(-accel tcg,thread=multi -cpu max) ;;
esac
bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
append="console=ttyS0,115200 rdinit=/init panic=-1 loglevel=4 mitigations=off tsc=reliable"
append="$append no_timer_check random.trust_cpu=on ${KMX_APPEND:-}"
[ $systemd = 1 ] && append="$append systemd.unit=multi-user.target systemd.show_status=0"

set +e
timeout --foreground -k 5 "${KMX_TIMEOUT:-1800}" qemu-system-x86_64 \
	-nodefaults -no-user-config -no-reboot -display none -monitor none \
	-M q35 "${accel[@]}" "${bios[@]}" -m "${KMX_MEM:-2G}" -smp "${KMX_SMP:-2}" \
	-kernel "$vmlinuz" -initrd "$initrd" -append "$append" \
	-chardev file,id=con,path="$run/console.log" -serial chardev:con \
	-chardev stdio,id=out,signal=on -serial chardev:out \
	-virtfs local,path=/,security_model=none,readonly=on,multidevs=remap,mount_tag=root \
	-virtfs local,path="$run",security_model=none,mount_tag=kmx < /dev/null
qemu_rc=$?
set -e
[ -s "$run/rc" ] && exit "$(cat "$run/rc")"
if [ $qemu_rc -eq 124 ] || [ $qemu_rc -eq 137 ]; then
	echo "boot: [$ver] timed out after ${KMX_TIMEOUT:-1800}s; console:" >&2; rc=124
else
	echo "boot: [$ver] the guest did not run the command (qemu status $qemu_rc); console:" >&2; rc=125
fi
tail -n 40 "$run/console.log" >&2
exit $rc
