#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a xenstore node over and over, as a hostile guest would, speaking
the xenstore wire protocol (xen/io/xs_wire.h) on $XENSTORED_PATH.

usage: flood-xenstore.py PATH SECONDS VALUE...   (cycles through VALUEs)
Prints how many writes xenstored acknowledged."""
import os, socket, struct, sys, time

XS_WRITE = 11
path, seconds, values = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["XENSTORED_PATH"])
end, n, batch = time.time() + seconds, 0, 64
buf = b""
while time.time() < end:
    out = b""
    for i in range(batch):
        body = path.encode() + b"\0" + values[(n + i) % len(values)].encode()
        out += struct.pack("<IIII", XS_WRITE, n + i, 0, len(body)) + body
    s.sendall(out)
    # Read the batch's replies (watch events for us may come too).
    got = 0
    while got < batch:
        while len(buf) < 16:
            buf += s.recv(65536)
        typ, rid, tx, ln = struct.unpack("<IIII", buf[:16])
        while len(buf) < 16 + ln:
            buf += s.recv(65536)
        if typ == XS_WRITE:
            got += 1
        elif typ != 15:  # XS_WATCH_EVENT
            sys.exit("xenstore error: %r" % buf[16:16 + ln])
        buf = buf[16 + ln:]
    n += batch
print(n)
