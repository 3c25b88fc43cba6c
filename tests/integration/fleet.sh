# A suite dealt out to several libvirt hosts, sourced by
# tests/integration/run.sh (its helpers, $host, $KDIR, $INITRD, $work).
# Two independent daemons on this machine (tests/integration/libvirtd-ns.sh:
# each in a mount namespace of its own, sharing no state, as two hosts
# would), reached through qemu+unix:// like a remote one: a suite file with
# [host] sections deals its runs to both; then a suite given two --connect
# loses one daemon mid-run: its run finishes on the other, nothing is left
# running, and every format says which host ran what and which dropped out.

fleet_a=$work/lv-a fleet_b=$work/lv-b
fleet_stop() {
	tests/integration/libvirtd-ns.sh stop "$fleet_a" 2>/dev/null
	tests/integration/libvirtd-ns.sh stop "$fleet_b" 2>/dev/null
}
# the daemons go whatever happens (run.sh's own trap, and this)
trap 'fleet_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# no QEMU of the domains the runs under OUT created is left (their names
# are in each run's libvirt.log, moved runs' included)
fleet_no_domain_left() {
	local names
	names=$(grep -ohs 'vmemstress-[A-Za-z0-9]\{6\}' "$1"/runs/*/*/libvirt.log "$1"/lost/*/*/*/libvirt.log | sort -u)
	[ -n "$names" ] || return 1
	for n in $names; do
		pgrep -f -- "guest=$n" >/dev/null && return 1
	done
	return 0
}

begin "fleet: two libvirt daemons as two hosts"
check "as root" test "$(id -u)" = 0
check "libvirtd is installed (libvirt-daemon)" sh -c 'command -v libvirtd || test -x /usr/sbin/libvirtd' >/dev/null
# the QEMU driver looks its default user up (scripts/libvirtd-private.sh
# makes it the same way)
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
	useradd --system -g libvirt-qemu -d /var/lib/libvirt -M -s /usr/sbin/nologin libvirt-qemu
uri_a=$(tests/integration/libvirtd-ns.sh start "$fleet_a" 2>"$work/lv-a.err")
uri_b=$(tests/integration/libvirtd-ns.sh start "$fleet_b" 2>"$work/lv-b.err")
check "daemon a started (got '$uri_a' $(cat "$work/lv-a.err"))" test -n "$uri_a"
check "daemon b started (got '$uri_b' $(cat "$work/lv-b.err"))" test -n "$uri_b"
check "both answer" sh -c '"$1" --backend libvirt --connect "$2" --probe-libvirt && "$1" --backend libvirt --connect "$3" --probe-libvirt' - "$host" "$uri_a" "$uri_b" >/dev/null
end

fleet_dir=$work/fleet-scenarios
mkdir -p "$fleet_dir"
cp scenarios/default.ini tests/scenarios/vmsplice-unexpected.ini scenarios/anon-kernel.ini "$fleet_dir/"

begin "fleet: a suite file's [host] sections deal its runs to both daemons"
out=$work/fleet1
cat >"$work/fleet.suite" <<SUITE
[suite]
name = fleet
scenarios = fleet-scenarios/default.ini fleet-scenarios/vmsplice-unexpected.ini
[host alpha]
connect = $uri_a
jobs = 1
[host beta]
connect = $uri_b
jobs = 1
SUITE
start=$(date +%s)
timeout 600 "$host" --suite "$work/fleet.suite" --suite-kernel "deb:$KDIR:$INITRD" --known-bugs known-bugs.ini \
	-o "$out" --kcidb "$out/kcidb.json" >"$out.stdout" 2>"$out.stderr"
rc=$?
s=$out/suite.json
check "exit status 1: the pipe's failure (got $rc)" test "$rc" = 1
check "two hosts, each ran one run, none dropped out" jqt "$s" '[.suite.hosts[] | [.name, .runs, .dropped_out]] == [["alpha", 1, false], ["beta", 1, false]]'
check "each run names its host, and they differ" jqt "$s" '[.runs[].host] | sort == ["alpha", "beta"]'
check "both ran at the same time" jqt "$s" '[.runs[] | {a: .started_ms, b: (.started_ms + .elapsed_ms)}] | .[0].a < .[1].b and .[1].a < .[0].b'
check "the libvirt backend ran them" jqt "$s" 'all(.runs[]; .report.vm.backend == "libvirt")'
check "each host got the kernel and initrd uploaded into its pool" jqt "$s" \
	'all(.suite.hosts[]; (.files | length) == 2 and all(.files[]; .uploaded and .error == null and (.path | startswith("/var/lib/libvirt/images/vmemstress/"))))'
check "the runs booted the uploaded volumes" sh -c 'for f in "$1"/runs/deb/*/libvirt.log; do grep -q "<kernel>/var/lib/libvirt/images/vmemstress/.*vmlinuz</kernel>" "$f" || exit 1; done' - "$out"
check "text: hosts and each run's host" sh -c 'grep -q "^  host alpha  *1 run" "$1" && grep -q "deb/default .* on \(alpha\|beta\)$" "$1"' - "$out.stdout"
check "KTAP: each run's host" grep -q "^  # host: \(alpha\|beta\)$" "$out/results.ktap"
check "JUnit: each run's host" grep -q "^host: \(alpha\|beta\)$" "$out/junit.xml"
check "HTML: each run's host" grep -q '<code class="host">\(alpha\|beta\)</code>' "$out/report.html"
check "KCIDB: each test's environment names its host" jqt "$out/kcidb.json" '[.tests[].environment.misc.host] | sort == ["alpha", "beta"]'
check "JSON, JUnit, KTAP and KCIDB check" sh -c 'for c in json junit ktap kcidb; do tests/reports/check-$c.sh "$1" || exit 1; done' - "$out"
check "no domain left" fleet_no_domain_left "$out"
end

begin "fleet: --connect twice, one daemon stopped mid-suite: its run moves to the other, nothing is left"
out=$work/fleet2
"$host" --suite "$fleet_dir" --suite-kernel "deb:$KDIR:$INITRD" --known-bugs known-bugs.ini -o "$out" \
	--connect "$uri_a=1" --connect "$uri_b" --kcidb "$out/kcidb.json" >"$out.stdout" 2>"$out.stderr" &
pid=$!
# stop daemon a once its run's guest is up (bounded: 120 s)
for _ in $(seq 1 1200); do
	grep -q "start deb/[a-z-]* on lv-a" "$out.stderr" 2>/dev/null && grep -qs 'guest up' "$out"/runs/deb/*/run.log && break
	sleep 0.1
done
on_a=$(sed -n 's/.*start \(deb\/[a-z-]*\) on lv-a .*/\1/p' "$out.stderr" | head -1)
tests/integration/libvirtd-ns.sh stop "$fleet_a"
wait_host 600
s=$out/suite.json
check "a run had started on lv-a before it was stopped (got '$on_a')" test -n "$on_a"
check "exit status 1: the pipe's failure, no error (got $rc)" test "$rc" = 1
check "the files went once: on this second suite they were already there" sh -c 'test "$(grep -c "already there" "$1")" = 4 && ! grep -q " uploaded (" "$1"' - "$out.stderr"
check "every run finished on lv-b: 3 runs, 2 pass, 1 fail, no error" jqt "$s" '.summary.runs == 3 and .summary.pass == 2 and .summary.fail == 1 and .summary.error == 0 and all(.runs[]; .host == "lv-b")'
check "lv-a named as dropped out, with why and its moved run" jqt "$s" '.suite.hosts[] | select(.name == "lv-a") | .dropped_out and (.error | test("cannot connect")) and .moved_runs == 1 and .runs == 0'
check "the moved run says from where, its partial output kept" jqt "$s" ".runs[] | select(.id == \"$on_a\") | (.moved_from | length) == 1 and .moved_from[0].host == \"lv-a\" and .moved_from[0].dir == \"lost/lv-a/$on_a\""
check "its partial report is under lost/" test -s "$out/lost/lv-a/$on_a/report.json"
check "text: DROPPED OUT and moved from" sh -c 'grep -q "DROPPED OUT at" "$1" && grep -q "moved from lv-a (dropped out)" "$1"' - "$out.stdout"
check "KTAP: the host and the move" sh -c 'grep -q "^# host: lv-a .*dropped out" "$1" && grep -q "^  # moved: from host lv-a" "$1"' - "$out/results.ktap"
check "JUnit and HTML: the move" sh -c 'grep -q "moved from host lv-a, which dropped out" "$1/junit.xml" && grep -q "moved from host <code class=\"moved\">lv-a</code>" "$1/report.html"' - "$out"
check "JSON, JUnit, KTAP and KCIDB check" sh -c 'for c in json junit ktap kcidb; do tests/reports/check-$c.sh "$1" || exit 1; done' - "$out"
check "nothing left running: no domain of the suite" fleet_no_domain_left "$out"
check "nothing left running: daemon a is gone" test ! -e "$fleet_a/libvirtd.pid"
end

begin "fleet: bad hosts are named before any VM starts"
out=$work/fleet3
printf '[suite]\nscenarios = fleet-scenarios/default.ini\n[host x]\njobs = 2\n' >"$work/nohost.suite"
timeout 60 "$host" --suite "$work/nohost.suite" --suite-kernel "deb:$KDIR:$INITRD" -o "$out" >"$out.stdout" 2>"$out.stderr"
rc=$?
check "a [host] without connect: exit 3 (got $rc)" test "$rc" = 3
check "names file, line and host" contains "$out.stderr" "nohost.suite:3: [host x] has no connect"
timeout 60 "$host" --suite "$fleet_dir" --suite-kernel "deb:$KDIR:$INITRD" -o "$out" --connect "$uri_b=0" >"$out.stdout" 2>"$out.stderr"
rc=$?
check "--connect URI=0: exit 3 (got $rc)" test "$rc" = 3
check "says JOBS is 1 to 64" contains "$out.stderr" "JOBS is a number from 1 to 64"
timeout 60 "$host" --suite "$fleet_dir" --suite-kernel "deb:$KDIR:$INITRD" -o "$out" --backend qemu --connect "$uri_b" >"$out.stdout" 2>"$out.stderr"
rc=$?
check "--backend qemu with --connect: exit 3 (got $rc)" test "$rc" = 3
check "no run started" test ! -e "$out/runs"
end
fleet_stop
