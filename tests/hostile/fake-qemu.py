#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 (given to the host with --qemu) for the
hostile-guest tests: no VM, just QMP and the guest channel on the sockets
the host asked for, and a scripted guest behind the channel
(docs/protocol.md). FAKE_QEMU_MODE picks the script:

  argv        record the command line (FAKE_QEMU_ARGV) and exit 1
  sleep       record it, open the sockets, answer QMP, never say hello
  flood-hello a hello claiming memory_block_size 1, then memory_blocks
              arrays as long as a line takes (4 MiB)
  flood-held  a valid hello, then state answers whose "held" lists every
              block of the region (the worst a guest may truthfully send)
  bad-held    a state whose "held" names one block twice
  terminal    a run that passes, with terminal control bytes in the hello
              and in the kernel log
  left-behind every memory block of the region stays listed after its
              device blocks are all unplugged, releases or not (a driver
              that never removes an emptied memory block)
  left-behind-released
              the same until the first release, then they are gone

Everything is bounded: the script exits when the host closes a socket, on
"quit", or after 120 s whatever happens. Exit status 0.
"""
import json
import os
import select
import signal
import socket
import sys

MODE = os.environ.get("FAKE_QEMU_MODE", "argv")
signal.alarm(120)


def opt_value(arg, key):
    """key=VALUE from a QEMU option string whose commas are doubled."""
    i, parts, cur = 0, [], ""
    while i < len(arg):
        if arg[i] == ",":
            if arg[i:i + 2] == ",,":
                cur += ","
                i += 2
                continue
            parts.append(cur)
            cur = ""
        else:
            cur += arg[i]
        i += 1
    parts.append(cur)
    for p in parts:
        if p.startswith(key + "="):
            return p[len(key) + 1:]
    return None


argv = sys.argv[1:]
if os.environ.get("FAKE_QEMU_ARGV"):
    with open(os.environ["FAKE_QEMU_ARGV"], "w") as f:
        f.write("\n".join(argv) + "\n")
if MODE == "argv":
    sys.exit(1)

qmp_path = guest_path = None
region = block = None
for i, a in enumerate(argv):
    if a == "-qmp":
        v = argv[i + 1]
        # the compat syntax unix:PATH,... has the path first, without key
        first = ""
        j = len("unix:")
        while j < len(v):
            if v[j] == "," and v[j:j + 2] == ",,":
                first += ","
                j += 2
            elif v[j] == ",":
                break
            else:
                first += v[j]
                j += 1
        qmp_path = first
    elif a == "-chardev" and argv[i + 1].startswith("socket,id=agent"):
        guest_path = opt_value(argv[i + 1], "path")
    elif a == "-object" and "id=vmem0" in argv[i + 1]:
        region = int(opt_value(argv[i + 1], "size").rstrip("M")) << 20
    elif a == "-device" and argv[i + 1].startswith("virtio-mem-pci"):
        block = int(opt_value(argv[i + 1], "block-size").rstrip("K")) << 10
        requested = int(opt_value(argv[i + 1], "requested-size").rstrip("M")) << 20

if os.environ.get("FAKE_QEMU_ARGV"):
    # the host's socket directory as QEMU finds it: private, 0700
    with open(os.environ["FAKE_QEMU_ARGV"] + ".sockdir", "w") as f:
        f.write("%o\n" % (os.stat(os.path.dirname(qmp_path)).st_mode & 0o7777))
gsrv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
gsrv.bind(guest_path)
gsrv.listen(1)
qsrv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
qsrv.bind(qmp_path + ".tmp")
qsrv.listen(1)
os.rename(qmp_path + ".tmp", qmp_path)  # the host waits for this name

ADDR = 4 << 30
size = requested
nblocks = region // block


def send(sock, obj):
    line = json.dumps(obj)
    if MODE == "terminal":
        # raw bytes, as a hostile guest would send them: json-c takes
        # control characters inside strings as they are
        line = json.dumps(obj, ensure_ascii=False).replace("\\u001b", "\x1b").replace("\\u0007", "\x07")
    sock.sendall((line + "\n").encode())


class Lines:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def get(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


q, _ = qsrv.accept()
send(q, {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": "fake"},
                 "capabilities": []}})
g = None
ql = Lines(q)


def qmp_answer(m):
    global size
    cmd, args, ret = m.get("execute"), m.get("arguments", {}), {}
    if cmd == "query-kvm":
        ret = {"enabled": False, "present": False}
    elif cmd == "query-version":
        ret = {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": "fake"}
    elif cmd == "query-memory-devices":
        ret = [{"type": "virtio-mem", "data": {"id": "vm0", "memaddr": ADDR, "max-size": region,
                                                "block-size": block, "node": 1, "size": size,
                                                "requested-size": size, "memdev": "/objects/vmem0"}}]
    elif cmd == "qom-set":
        size = args["value"]  # every request is met at once
    elif cmd == "qom-get":
        ret = size
    send(q, {"return": ret, "id": m.get("id")})
    return cmd


released = False


def pops_state(names, mapped):
    pops = [{"name": n, "type": "anon", "pages": 4096, "in_region": 4096 if mapped else 0, "absent": 0,
             "moved": 0 if mapped else 4096, "checked": 4096, "verified": 4096, "corrupted": 0}
            for n in names]
    if MODE.startswith("left-behind"):
        for p in pops:
            p["has_release"] = True
            if released:
                p["released"] = True
                p["dropped"] = "stopped refusing memory offlining"
    return pops


def state(step, names, plugged_blocks):
    mbs = 128 << 20
    first, last = ADDR // mbs, (ADDR + region - 1) // mbs
    st = {"type": "state", "step": step, "elapsed_ms": 1,
          "populations": pops_state(names, plugged_blocks > 0),
          "map": "P" * plugged_blocks + "U" * (nblocks - plugged_blocks),
          # like the kernel: a memory block is removed once nothing in it is plugged
          "memory_blocks": [{"index": i, "state": "online", "zone": "Movable"} for i in range(first, last + 1)
                            if max(i * mbs, ADDR) < ADDR + plugged_blocks * block
                            or MODE == "left-behind" or (MODE == "left-behind-released" and not released)],
          "held": []}
    if MODE == "flood-held":
        st["held"] = [{"block": b, "pages": {n: 1 for n in names}} for b in range(nblocks)]
    elif MODE == "bad-held":
        st["held"] = [{"block": 3, "pages": {names[0]: 1}}, {"block": 3, "pages": {names[0]: 2}}]
    return st


names = []


def hello():
    mbs = 1 if MODE == "flood-hello" else 128 << 20
    program = "fake-guest \x1b[2J\x1b]0;owned\x07 \u009b31m" if MODE == "terminal" else "fake-guest"
    send(g, {"type": "hello", "proto": 1, "program": program, "kernel": "6.1.0-fake",
             "memory_block_size": mbs, "thp": "madvise", "uptime_ms": 5})


def guest_answer(m):
    """Answer one command; False once the guest powers off."""
    global names, released
    c = m.get("cmd")
    if c == "setup":
        names = [p["name"] for p in m["populations"]]
        if MODE == "flood-hello":
            # as many memory blocks as one 4 MiB line holds
            mb = [{"index": ADDR + i, "state": "online", "zone": "Movable"} for i in range(60000)]
            send(g, {"type": "state", "step": "populate", "elapsed_ms": 1,
                     "populations": pops_state(names, True), "map": "P" * nblocks,
                     "memory_blocks": mb, "held": []})
        else:
            send(g, state("populate", names, nblocks))
    elif c in ("state", "release"):
        if c == "release":
            released = True
        send(g, state(m.get("step", ""), names, size // block))
    elif c == "activity":
        send(g, {"type": "activity", "events": -1})
    elif c == "kernel-log":
        send(g, {"type": "kernel-log", "text": "[    0.0] Linux\n\x1b[31mred\x1b[0m \u009b2J\r\n",
                 "truncated": False})
    elif c == "poweroff":
        send(q, {"event": "SHUTDOWN", "data": {"guest": True, "reason": "guest-shutdown"},
                 "timestamp": {"seconds": 0, "microseconds": 0}})
        return False
    return True


def pending(lines):
    """The whole lines already received, parsed."""
    out = []
    while b"\n" in lines.buf:
        line, lines.buf = lines.buf.split(b"\n", 1)
        out.append(json.loads(line))
    return out


gl = None
guest_on = True
while True:
    socks = [q] + ([gsrv] if g is None else []) + ([g] if g is not None and guest_on else [])
    r, _, _ = select.select(socks, [], [], 60)
    if not r:
        break
    if gsrv in r:
        g, _ = gsrv.accept()
        gl = Lines(g)
        if MODE != "sleep":
            hello()
    if g is not None and g in r and guest_on:
        d = g.recv(65536)
        if not d:
            guest_on = False
        gl.buf += d
        for m in pending(gl):
            if not guest_answer(m):
                sys.exit(0)  # powered off: QEMU ends
    if q in r:
        d = q.recv(65536)
        if not d:
            break
        ql.buf += d
        if any(qmp_answer(m) == "quit" for m in pending(ql)):
            break
sys.exit(0)
