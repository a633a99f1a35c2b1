#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the vbd fuzzers (tests/fuzz/corpus/vbd-*).

Run from anywhere: python3 tests/fuzz/make-vbd-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(name, corpus, data):
    d = os.path.join(HERE, "corpus", corpus)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rw64(op, nseg, rid, sector, segs):
    b = struct.pack("<BBHIQQ", op, nseg, 0x51, 0, rid, sector)
    for g, f, l in segs:
        b += struct.pack("<IBBH", g, f, l, 0)
    return b.ljust(112, b"\0")


def rw32(op, nseg, rid, sector, segs):
    b = struct.pack("<BBHQQ", op, nseg, 0x51, rid, sector)
    for g, f, l in segs:
        b += struct.pack("<IBBH", g, f, l, 0)
    return b.ljust(112, b"\0")


def discard64(flag, rid, sector, n):
    return struct.pack("<BBHIQQQ", 5, flag, 0, 0, rid, sector, n).ljust(112, b"\0")


def discard32(flag, rid, sector, n):
    return struct.pack("<BBHQQQ", 5, flag, 0, rid, sector, n).ljust(112, b"\0")


def indirect64(op, nseg, rid, sector, grefs):
    b = struct.pack("<BBHIQQHH", 6, op, nseg, 0, rid, sector, 0x51, 0)
    b += struct.pack("<8I", *(grefs + [0] * (8 - len(grefs))))
    return b.ljust(112, b"\0")


def indirect32(op, nseg, rid, sector, grefs):
    b = struct.pack("<BBHQQHH", 6, op, nseg, rid, sector, 0x51, 0)
    b += struct.pack("<8I", *(grefs + [0] * (8 - len(grefs))))
    return b.ljust(112, b"\0")


def segpage(n, first=0, last=7):
    return b"".join(struct.pack("<IBBH", 1000 + i, first, last, 0)
                    for i in range(n))


# Byte 0 of each seed chooses the ABI and the limits (see vbd-request.c):
# 0x70 = x86_64 with flush, barrier and discard offered, indirect up to 4096.
seeds = {
    "read-x86_64": bytes([0x70]) + rw64(0, 1, 1, 0, [(8, 0, 7)]),
    "write-11-x86_64": bytes([0x70]) + rw64(1, 11, 2, 8, [(8 + i, 0, 7) for i in range(11)]),
    "write-x86_32": bytes([0x71]) + rw32(1, 2, 3, 16, [(9, 1, 7), (10, 0, 0)]),
    "flush": bytes([0x70]) + rw64(3, 0, 4, 0, []),
    "barrier-data": bytes([0x70]) + rw64(2, 1, 5, 0, [(11, 0, 7)]),
    "discard-x86_64": bytes([0xf0]) + discard64(1, 6, 0, 2048),
    "discard-x86_32": bytes([0xf1]) + discard32(0, 7, 8, 8),
    "indirect-read": bytes([0x70]) + indirect64(0, 600, 8, 0, [100, 101]) + segpage(600),
    "indirect-write-x86_32": bytes([0x71]) + indirect32(1, 16, 9, 0, [100]) + segpage(16, 0, 3),
    "sector4k": bytes([0x74]) + rw64(0, 2, 10, 8, [(12, 1, 7), (13, 0, 0)]),
    "readonly-write": bytes([0x7a]) + rw64(1, 1, 11, 0, [(14, 0, 7)]),
    "bad-segment": bytes([0x70]) + rw64(0, 1, 12, 0, [(15, 6, 5)]),
    "unknown-op": bytes([0x70]) + rw64(9, 1, 13, 0, [(16, 0, 7)]),
}
for name, data in seeds.items():
    put(name, "vbd-request", data)

fe = {
    "single": b"\x04\x03ring-ref=8\nevent-channel=5\nprotocol=x86_64-abi\n",
    "multipage": b"\x04\x03ring-page-order=2\nring-ref0=10\nring-ref1=11\n"
                 b"ring-ref2=12\nring-ref3=13\nevent-channel=9\n"
                 b"protocol=x86_32-abi\nfeature-persistent=1\n",
    "queues": b"\x04\x03multi-queue-num-queues=2\nring-page-order=1\n"
              b"queue-0/ring-ref0=20\nqueue-0/ring-ref1=21\n"
              b"queue-0/event-channel=7\nqueue-1/ring-ref0=22\n"
              b"queue-1/ring-ref1=23\nqueue-1/event-channel=8\n",
    "queues-single-page": b"\x00\x03multi-queue-num-queues=3\n"
                          b"queue-0/ring-ref=1\nqueue-0/event-channel=2\n"
                          b"queue-1/ring-ref=3\nqueue-1/event-channel=4\n"
                          b"queue-2/ring-ref=5\nqueue-2/event-channel=6\n",
    "bad-order": b"\x02\x00ring-page-order=3\nring-ref0=1\nevent-channel=2\n",
    "garbage": b"\x04\x03ring-ref=0x10\nevent-channel=-1\nprotocol=arm-abi\n",
}
for name, data in fe.items():
    put(name, "vbd-frontend", data)
