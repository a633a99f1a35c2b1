#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the echo-ring fuzzer (tests/fuzz/corpus/echo-ring).

The input format is echo-ring.c's: a header (reverse option, start index,
page seed, grants), then the guest's moves, each a flags byte and what
the flags ask for.

Run from anywhere: python3 tests/fuzz/make-echo-ring-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

PING, SUM, REVERSE = 0, 1, 2
REQUESTS, RAW_PROD, REWRITE, RSP_EVENT = 1, 2, 4, 8
REQ_EVENT, GRANTS, MEANWHILE, KICK = 16, 32, 64, 128
M_SLOT, M_PENDING, M_DATA, M_REVOKE = 1, 2, 4, 8
NONE, RW, RO = 0, 1, 2
OPTION_UNSET, OPTION_0, OPTION_1 = 0, 1, 2


def req(rid, op, gref=0, offset=0, length=0, pad=0):
    return struct.pack("<QB3sIHHI", rid, op, bytes([pad] * 3), gref, offset,
                       length, pad)


def grants(states):
    g = 0
    for ref, s in states.items():
        g |= s << (2 * ref)
    return g


def header(option, start, seed, states):
    return struct.pack("<BIII", option, start, seed, grants(states))


def move(requests=None, raw_prod=None, rewrite=None, rsp_event=None,
         req_event=None, states=None, meanwhile=None, kick=False):
    flags, b = 0, b""
    if requests is not None:
        flags |= REQUESTS
        b += bytes([len(requests)]) + b"".join(requests)
    if raw_prod is not None:
        flags |= RAW_PROD
        b += struct.pack("<I", raw_prod & 0xffffffff)
    if rewrite is not None:
        flags |= REWRITE
        b += bytes([len(rewrite)])
        for s, r in rewrite:
            b += bytes([s]) + r
    if rsp_event is not None:
        flags |= RSP_EVENT
        if isinstance(rsp_event, tuple):
            b += b"\xff" + struct.pack("<I", rsp_event[0])
        else:
            b += bytes([rsp_event])
    if req_event is not None:
        flags |= REQ_EVENT
        b += struct.pack("<I", req_event)
    if states is not None:
        flags |= GRANTS
        b += struct.pack("<I", grants(states))
    if meanwhile is not None:
        flags |= MEANWHILE
        b += bytes([meanwhile])
    if kick:
        flags |= KICK
    return bytes([flags]) + b


def put(name, data):
    d = os.path.join(HERE, "corpus", "echo-ring")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def every_op():
    return [req(1, PING), req(2, SUM, 0, 0, 4096), req(3, REVERSE, 0, 100, 50),
            req(4, SUM, 1, 7, 9), req(5, REVERSE, 1, 0, 8),  # read-only
            req(6, SUM, 2, 0, 1),                            # not granted
            req(7, SUM, 0, 4000, 200), req(8, REVERSE, 0, 4096, 1),
            req(9, 7), req(10, SUM, 20, 0, 16),              # the ring page
            req(11, SUM, 0x7fffffff, 0, 16), req(12, SUM, 3, 4095, 1)]


G = {0: RW, 1: RO, 3: RW}

put("every-op", header(OPTION_UNSET, 0, 1, G) +
    move(requests=every_op(), rsp_event=1) +
    move(requests=every_op(), rsp_event=3, kick=True))
put("no-reverse", header(OPTION_0, 5, 2, G) +
    move(requests=every_op(), kick=True) +
    move(requests=every_op(), kick=True))
put("reverse-on", header(OPTION_1, 9, 3, G) +
    move(requests=[req(i, REVERSE, i % 4, i * 7, i * 13) for i in range(40)]) +
    move(requests=[req(i, SUM, i % 4, i * 5, 300) for i in range(20)],
         kick=True))
# Requests waiting at the takeover, indexes about to wrap, more than a
# pass's budget (64) at once.
put("wrap", header(OPTION_UNSET, 0xffffff80, 4, G) +
    move(requests=[req(i, SUM, 0, i, 64) for i in range(100)]) +
    move(requests=[req(100 + i, PING) for i in range(128)], rsp_event=64,
         kick=True) +
    move(requests=[req(300 + i, REVERSE, 3, 0, 4096) for i in range(3)],
         kick=True))
# req_prod beyond the ring: far ahead, one too many, behind the responses.
put("overflow-far", header(OPTION_UNSET, 0, 5, G) +
    move(requests=[req(1, PING)]) +
    move(raw_prod=0x80000000, kick=True))
put("overflow-by-one", header(OPTION_UNSET, 0xfffffff0, 6, G) +
    move(requests=[req(1, PING)]) +
    move(raw_prod=0xfffffff0 + 1 + 129, kick=True))
put("overflow-behind", header(OPTION_UNSET, 1000, 7, G) +
    move(requests=[req(1, SUM, 0, 0, 10)] * 3) +
    move(raw_prod=999, kick=True))
put("overflow-at-open", header(OPTION_UNSET, 77, 8, G) +
    move(raw_prod=77 + 500))
# Full, then not kicked, then kicked.
put("full", header(OPTION_UNSET, 3, 9, G) +
    move(requests=[req(i, SUM, 0, i, 1) for i in range(128)]) +
    move(requests=[req(i, PING) for i in range(128)]) +
    move(kick=True))
# The guest rewrites slots and changes grants between passes.
put("between-passes", header(OPTION_UNSET, 0, 10, G) +
    move(requests=[req(1, SUM, 0, 0, 10)]) +
    move(requests=[req(2, REVERSE, 0, 0, 10), req(3, SUM, 1, 0, 10)],
         rewrite=[(2, req(33, SUM, 3, 1, 2)), (1, req(99, PING))],
         states={0: RO, 1: NONE, 3: RW}, kick=True) +
    move(requests=[req(4, REVERSE, 3, 0, 4096)], req_event=0xdeadbeef,
         rsp_event=(0x12345678,), kick=True) +
    move(requests=[req(5, SUM, 3, 0, 4096)], rsp_event=0, kick=True))
# The guest acting while the backend works on a request.
for name, m in [("meanwhile-slot", M_SLOT), ("meanwhile-pending", M_PENDING),
                ("meanwhile-data", M_DATA), ("meanwhile-revoke", M_REVOKE),
                ("meanwhile-all", 15)]:
    put(name, header(OPTION_UNSET, 50, 11, G) +
        move(requests=[req(1, PING)]) +
        move(requests=[req(10 + i, (SUM, REVERSE)[i % 2], (0, 3)[i % 2],
                           i * 3, 40) for i in range(12)],
             meanwhile=m, kick=True) +
        move(requests=every_op(), states=G, kick=True))
