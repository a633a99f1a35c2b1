#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""grant-pins.py SIMDIR DOMID...: lists the grant refs of each simulated
domain that some process still has mapped (or is copying): the simlib's
grant table entries with a non-zero pin count.

A pin is taken by every xengnttab map (and grant copy in progress) and
dropped by its unmap. The simulation runs nothing when a process dies, so a
pin left once every backend process is gone is a mapping that was never
unmapped (tests/simlib/README.md, "Known differences").

Output: one line per pinned ref, "DOMID REF pins=N state=... granted-to=D";
nothing when no ref is pinned. Exit status 0, or 2 if a table is not in the
layout this script knows (tests/simlib/grant_table.h, "XGT1" version 1).
"""
import os
import struct
import sys

MAGIC, VERSION = 0x58475431, 1
HEADER = 64                  # magic, version, nr_entries, hint, pad[48]
ENTRY = 16                   # u64 word, i32 owner_pid, u32 pad
ACTIVE, RO, REVOKED, BUSY = 1 << 16, 1 << 17, 1 << 18, 1 << 19


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: grant-pins.py SIMDIR DOMID...")
    rc = 0
    for domid in sys.argv[2:]:
        path = os.path.join(sys.argv[1], "grant", "table-%s" % domid)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue             # the domain never granted anything
        magic, version, nr = struct.unpack_from("<III", data, 0)
        if magic != MAGIC or version != VERSION:
            print("grant-pins: %s: unknown layout (magic %#x version %d)"
                  % (path, magic, version), file=sys.stderr)
            rc = 2
            continue
        nr = min(nr, (len(data) - HEADER) // ENTRY)
        for ref in range(nr):
            word, = struct.unpack_from("<Q", data, HEADER + ref * ENTRY)
            pins = (word >> 24) & 0xFFFFFF
            if pins:
                state = "revoked" if word & REVOKED else (
                    "active-ro" if word & RO else "active")
                print("%s %d pins=%d state=%s granted-to=%d"
                      % (domid, ref, pins, state, word & 0xFFFF))
    return rc


if __name__ == "__main__":
    sys.exit(main())
