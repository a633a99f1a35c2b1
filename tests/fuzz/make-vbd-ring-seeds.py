#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the vbd-ring fuzzer (tests/fuzz/corpus/vbd-ring).

Each seed is a header (see configure() in vbd-ring.c), then steps: a
16-bit move mask and its arguments. Run from anywhere:
python3 tests/fuzz/make-vbd-ring-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "vbd-ring")

REQUESTS, PUBLISH, RAW_PROD, REWRITE = 1, 2, 4, 8
RSP_EVENT, GRANTS, COMPLETE, KICK = 16, 32, 64, 128
INDIRECT, MEANWHILE, RESIZE, SETTLE = 256, 512, 1024, 2048
STORM, DRAIN, REQ_EVENT, QUEUE = 4096, 8192, 16384, 32768

ALL_RW = 0x5555555555555555  # every data page granted writable


def header(c0=0, c1=0x87, c2=0x45, sectors=4000, start=0, grants=ALL_RW,
           waiting=b"\0"):
    # c1 0x87: flush, barrier, discard, unique ids; c2: 2 threads, budget 1
    return (bytes([c0, c1, c2]) + struct.pack("<HII", sectors, start, 7)
            + struct.pack("<Q", grants) + waiting)


def rw(op, sector, segs):
    # how: 0 = read/write form, op index in bits 3..5
    b = bytes([op << 3, len(segs)]) + struct.pack("<H", sector)
    for gref, first, last in segs:
        fl = first | (0x80 | last << 3 if last != 7 else 0)
        b += bytes([gref, fl])
    return b


def discard(sector, n, secure=0):
    return bytes([4, secure]) + struct.pack("<HH", sector, n)


def indirect(op, nseg, sector, pages):
    return bytes([5, op]) + struct.pack("<HH", nseg, sector) + bytes(pages)


def step(mask, *args):
    return struct.pack("<H", mask) + b"".join(args)


def requests(*reqs):
    return bytes([len(reqs)]) + b"".join(reqs)


def complete(*picks):
    return bytes([len(picks)]) + b"".join(bytes([p, h]) for p, h in picks)


def segpage(ref, n, skip=0):
    return bytes([ref, n, skip]) + b"".join(bytes([(i * 3) % 28, 0])
                                            for i in range(n))


GO = REQUESTS | PUBLISH | KICK
seeds = {
    "read-write": header() + step(GO | SETTLE, requests(
        rw(1, 0, [(1, 0, 7), (2, 0, 7)]), rw(0, 0, [(3, 0, 7), (4, 0, 7)]),
        rw(0, 8, [(5, 2, 5)]))),
    "flush-barrier-ordering": header() + step(GO, requests(
        rw(1, 0, [(1, 0, 7)]), rw(1, 8, [(2, 0, 7)]), rw(4, 0, []),
        rw(5, 16, [(3, 0, 7)]), rw(0, 0, [(4, 0, 7)]))) +
        step(COMPLETE, complete((1, 0), (0, 0))) +
        step(COMPLETE, complete((0, 0), (0, 0), (0, 0))) + step(SETTLE),
    "discard": header() + step(GO | SETTLE, requests(
        discard(0, 64), discard(3990, 100), discard(8, 0, 1))),
    "indirect": header(c1=0xa7) + step(INDIRECT, segpage(20, 40)) +
        step(GO | SETTLE, requests(indirect(0, 40, 0, [20]),
                                   indirect(1, 40, 64, [20]),
                                   indirect(1, 600, 64, [20, 21]))),
    "persistent-churn": header(c0=32, c2=0x05) + step(GO, requests(
        *[rw(i % 2, i * 8, [(i % 20, 0, 7), ((i + 7) % 20, 0, 7)])
          for i in range(20)])) + step(COMPLETE, complete(*[(0, 0)] * 9)) +
        step(GRANTS | GO | SETTLE, struct.pack("<Q", 0x5555aaaa5555aaaa),
             requests(rw(0, 0, [(1, 0, 7)]), rw(1, 0, [(9, 0, 7)]))),
    "grant-copy-x86_32": header(c0=1 | 16) + step(GO | SETTLE, requests(
        rw(1, 0, [(1, 0, 7), (2, 1, 3)]), rw(0, 0, [(3, 0, 7)]))),
    "two-queues-wrap": header(c0=8 | 2, start=0xfffffff0) +
        step(GO, requests(*[rw(0, i, [(i, 0, 7)]) for i in range(6)])) +
        step(GO | QUEUE | SETTLE, requests(*[rw(1, i, [(i, 0, 7)])
                                              for i in range(6)])),
    "errors-short": header() + step(GO, requests(
        rw(0, 0, [(1, 0, 7)] * 4), rw(1, 0, [(2, 0, 7)] * 4), rw(4, 0, []))) +
        step(COMPLETE, complete((0, 14), (0, 10), (0, 15))) + step(SETTLE),
    "overrun": header() + step(GO | RAW_PROD, requests(rw(0, 0, [(1, 0, 7)])),
                               bytes([0xff]) + struct.pack("<I", 40)),
    "drain-in-flight": header() + step(GO, requests(
        *[rw(i % 2, i * 8, [(i, 0, 7)]) for i in range(8)])) +
        step(DRAIN | COMPLETE, complete((0, 0), (1, 0))) + step(SETTLE),
    "meanwhile": header() + step(GO | MEANWHILE, requests(
        rw(0, 0, [(1, 0, 7)]), rw(1, 0, [(2, 0, 7)])), bytes([1 | 2])) +
        step(REWRITE | SETTLE),
    "resize": header(c0=128, sectors=64) + step(GO | SETTLE, requests(
        rw(0, 64, [(1, 0, 7)]))) + step(RESIZE | GO | SETTLE, bytes([4]),
                                       requests(rw(0, 64, [(1, 0, 7)]))),
    "storm": header() + step(STORM) + step(GO | SETTLE, requests(
        rw(0, 0, [(1, 0, 7)]))),
}
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
