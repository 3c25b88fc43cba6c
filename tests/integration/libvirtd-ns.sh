#!/bin/sh
# tests/integration/libvirtd-ns.sh start DIR | stop DIR
#
# A libvirtd of the tests' own, in a mount namespace of its own: tmpfs over
# /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and
# /etc/libvirt (its qemu.conf written there), so that two of them, and a
# daemon someone else runs, share no state: independent daemons on one
# machine, as two hosts would be. Its config, pidfile, socket and log are in
# DIR. As root (scripts/libvirtd-private.sh has made the libvirt-qemu user).
#   start  starts it, waits (bounded) for its socket, prints its URI
#   stop   SIGTERM by the PID in DIR/libvirtd.pid, 15 s, then SIGKILL;
#          never by name
set -eu
[ $# = 2 ] || { echo "usage: $0 start DIR | stop DIR" >&2; exit 3; }
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
sock=$dir/libvirt-sock
pidfile=$dir/libvirtd.pid
say() { echo "libvirtd-ns: $*" >&2; }
running_pid() {
	[ -s "$pidfile" ] || return 1
	p=$(cat "$pidfile")
	case "$p" in ''|*[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = libvirtd ] || return 1
	echo "$p"
}
case "$cmd" in
start)
	[ "$(id -u)" = 0 ] || { say "must run as root"; exit 3; }
	getent passwd libvirt-qemu >/dev/null || { say "no libvirt-qemu user (scripts/libvirtd-private.sh start makes it)"; exit 3; }
	if p=$(running_pid); then echo "qemu+unix:///system?socket=$sock"; exit 0; fi
	rm -f "$sock" "$dir/libvirt-sock-ro" "$dir/libvirt-admin-sock" "$pidfile"
	cat >"$dir/libvirtd.conf" <<CONF
unix_sock_dir = "$dir"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$dir/libvirtd.log"
CONF
	# the namespace lives as long as the daemon: libvirtd --daemon forks
	# inside it
	PATH=/usr/sbin:/sbin:$PATH unshare -m --propagation private sh -c '
		set -e
		for d in /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do
			mkdir -p "$d"
			mount -t tmpfs -o mode=0755 tmpfs "$d"
		done
		mkdir -p /var/log/libvirt/qemu
		printf "user = \"root\"\ngroup = \"root\"\nstdio_handler = \"file\"\n" >/etc/libvirt/qemu.conf
		exec libvirtd --daemon -f "$1/libvirtd.conf" -p "$1/libvirtd.pid"
	' - "$dir" >>"$dir/libvirtd.out" 2>&1 || { say "libvirtd did not start: $(tail -n 3 "$dir/libvirtd.out")"; exit 2; }
	i=0
	while [ ! -S "$sock" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ] || { [ $i -gt 50 ] && ! running_pid >/dev/null; }; then
			say "no $sock within $((i / 10)) s; see $dir/libvirtd.log"
			p=$(running_pid) && kill -KILL "$p" 2>/dev/null
			exit 2
		fi
		sleep 0.1
	done
	echo "qemu+unix:///system?socket=$sock"
	;;
stop)
	p=$(running_pid) || { rm -f "$pidfile"; exit 0; }
	kill -TERM "$p" 2>/dev/null || true
	i=0
	while [ -d "/proc/$p" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	[ -d "/proc/$p" ] && kill -KILL "$p" 2>/dev/null
	i=0
	while [ -d "/proc/$p" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ ! -d "/proc/$p" ] || { say "PID $p is still there"; exit 2; }
	rm -f "$pidfile" "$sock" "$dir/libvirt-sock-ro" "$dir/libvirt-admin-sock"
	;;
*) echo "usage: $0 start DIR | stop DIR" >&2; exit 3 ;;
esac
