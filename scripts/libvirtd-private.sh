#!/bin/sh
# scripts/libvirtd-private.sh start DIR | stop DIR | status DIR | uri DIR
#
# A private libvirtd for the libvirt backend on a machine without systemd
# (Debian 12 without libvirt-daemon-system): its config, pidfile, sockets and
# log live in DIR, so it stays out of the way of anything else. As root only.
#   start  does the one-time system setup (idempotent), starts the daemon,
#          waits (bounded) for its socket and prints its URI on stdout
#   stop   ends the daemon by the PID in DIR/libvirtd.pid: SIGTERM, a bounded
#          wait, then SIGKILL; never by name
#   status exit 0 when it is running
#   uri    prints the URI
# Domains it ran are not touched by stop: vmemstress destroys its own.
# See /work/shared/notes/libvirt.md for why each step is needed.
set -eu
usage() { echo "usage: $0 start DIR | stop DIR | status DIR | uri DIR" >&2; exit 3; }
[ $# = 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
sock="$dir/libvirt-sock"
pidfile="$dir/libvirtd.pid"
uri="qemu+unix:///system?socket=$sock"
say() { echo "libvirtd-private: $*" >&2; }

running_pid() {  # the daemon's PID when it is alive and really libvirtd
	[ -s "$pidfile" ] || return 1
	p=$(cat "$pidfile")
	case "$p" in ''|*[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = libvirtd ] || return 1
	echo "$p"
}

setup() {
	# The QEMU driver looks its default user up before reading qemu.conf.
	getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
	getent passwd libvirt-qemu >/dev/null ||
		useradd --system -g libvirt-qemu -d /var/lib/libvirt -M -s /usr/sbin/nologin libvirt-qemu
	# QEMU runs as root (it reads the kernel and writes console.log where the
	# user put them) and logs to a file: no virtlogd without systemd.
	conf=/etc/libvirt/qemu.conf
	mkdir -p /etc/libvirt
	if ! grep -q '^# vmemstress: private libvirtd' "$conf" 2>/dev/null; then
		if [ -f "$conf" ]; then
			cp "$conf" "$conf.vmemstress-orig"
			sed -i -E 's/^(user|group|stdio_handler)[[:space:]]*=/#&/' "$conf"
		fi
		cat >>"$conf" <<'EOF'
# vmemstress: private libvirtd (scripts/libvirtd-private.sh); the original,
# if there was one, is qemu.conf.vmemstress-orig
user = "root"
group = "root"
stdio_handler = "file"
EOF
		say "set user, group and stdio_handler in $conf"
	fi
	mkdir -p /var/lib/libvirt /var/log/libvirt/qemu /run/libvirt
}

case "$cmd" in
uri) echo "$uri" ;;
status) running_pid >/dev/null ;;
start)
	[ "$(id -u)" = 0 ] || { say "must run as root"; exit 3; }
	command -v libvirtd >/dev/null || [ -x /usr/sbin/libvirtd ] ||
		{ say "libvirtd is not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu)"; exit 3; }
	if p=$(running_pid); then
		say "already running (PID $p)"
		echo "$uri"
		exit 0
	fi
	setup
	rm -f "$sock" "$dir/libvirt-sock-ro" "$dir/libvirt-admin-sock" "$pidfile"
	cat >"$dir/libvirtd.conf" <<EOF
# written by scripts/libvirtd-private.sh
unix_sock_dir = "$dir"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$dir/libvirtd.log"
EOF
	PATH=/usr/sbin:/sbin:$PATH libvirtd --daemon -f "$dir/libvirtd.conf" -p "$pidfile" >>"$dir/libvirtd.out" 2>&1 || {
		say "libvirtd did not start; see $dir/libvirtd.out and $dir/libvirtd.log"
		tail -n 5 "$dir/libvirtd.out" "$dir/libvirtd.log" 2>/dev/null >&2 || true
		exit 2
	}
	# the first start probes QEMU's capabilities (about 5 s here): 60 s bound
	i=0
	while [ ! -S "$sock" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ] || { [ $i -gt 50 ] && ! running_pid >/dev/null; }; then
			say "libvirtd did not create $sock within $((i / 10)) s; see $dir/libvirtd.log"
			tail -n 5 "$dir/libvirtd.log" 2>/dev/null >&2 || true
			p=$(running_pid) && kill -KILL "$p" 2>/dev/null
			exit 2
		fi
		sleep 0.1
	done
	say "started (PID $(cat "$pidfile")); stop it with: $0 stop $dir"
	echo "$uri"
	;;
stop)
	if ! p=$(running_pid); then
		rm -f "$pidfile"
		exit 0
	fi
	kill -TERM "$p" 2>/dev/null || true
	i=0
	while [ -d "/proc/$p" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -d "/proc/$p" ]; then
		say "PID $p did not end within 15 s of SIGTERM: SIGKILL"
		kill -KILL "$p" 2>/dev/null || true
		i=0
		while [ -d "/proc/$p" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	[ -d "/proc/$p" ] && { say "PID $p is still there"; exit 2; }
	rm -f "$pidfile" "$sock" "$dir/libvirt-sock-ro" "$dir/libvirt-admin-sock"
	;;
*) usage ;;
esac
