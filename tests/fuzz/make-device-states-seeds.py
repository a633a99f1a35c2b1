#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the device-states fuzzer
(tests/fuzz/corpus/device-states).

A seed is a configuration byte, then moves of three bytes (move, a, b),
the backend-node move with a fourth (the value); see move() in
device-states.c. Run from anywhere:
python3 tests/fuzz/make-device-states-seeds.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "device-states")

(CREATE, BACKEND_NODE, FRONTEND_STATE, RM_BACKEND_NODE, RM_BACKEND_DIR,
 RM_FRONTEND_DIR, RM_DOMAIN, WORKER_STARTED, WORKER_EXIT, HOTPLUG_DONE,
 TIME, FAIL, CONFLICT, FLOOD, RESTART, REFUSE, FRONTEND_NODE,
 STORE_FAIL, REATTACH, RACE_RM) = range(20)
# backend_nodes[] and values[] indexes
STATE, ONLINE, FRONTEND, FRONTEND_ID, SCRIPT, HP_STATUS = range(6)
CONNECTED_VALUE, MARK = 15, 0xff
DEV0, DEV1 = 0, 2          # a: fid 1 / devid 0, fid 1 / devid 51712
STOPPED, FAILED, DIED = 0, 1, 2


def mv(m, a=0, b=0, *extra):
    return bytes([m, a, b, *extra])


def fe(dev, state):
    return mv(FRONTEND_STATE, dev, state)


def attach(dev=DEV0, how=0):
    return mv(CREATE, dev, how) + fe(dev, 3)


def detach(dev=DEV0):
    return (mv(BACKEND_NODE, dev, ONLINE, 0) + mv(BACKEND_NODE, dev, STATE, 5)
            + fe(dev, 5) + mv(WORKER_EXIT, STOPPED, 0) + fe(dev, 6)
            + mv(RM_BACKEND_DIR, dev) + mv(RM_FRONTEND_DIR, dev))


seeds = {
    "lifecycle": b"\0" + attach() + mv(WORKER_STARTED, 0, 0) + fe(DEV0, 4)
                 + detach(),
    "reconnect": b"\0" + attach() + mv(WORKER_STARTED, 0, 0) + fe(DEV0, 1)
                 + mv(WORKER_EXIT, STOPPED, 0) + fe(DEV0, 3)
                 + mv(WORKER_STARTED, 0, 0) + detach(),
    "hotplug-daemon": b"\1" + attach(how=8) + mv(HOTPLUG_DONE, 1, 0)
                      + mv(WORKER_STARTED, 0, 0) + detach(),
    "hotplug-toolstack": b"\0" + attach(how=8)
                         + mv(BACKEND_NODE, DEV0, HP_STATUS, CONNECTED_VALUE)
                         + mv(WORKER_STARTED, 0, 0) + detach(),
    "takeover": bytes([2 | (16 | 32) << 2]) + mv(WORKER_STARTED, 0, 0)
                + mv(RESTART) + mv(WORKER_STARTED, 0, 0) + detach(),
    "restart-connected": b"\0" + attach() + mv(WORKER_STARTED, 0, 0)
                         + mv(RESTART) + mv(WORKER_STARTED, 0, 0) + detach(),
    "two-devices": b"\0" + attach(DEV0) + attach(DEV1)
                   + mv(WORKER_STARTED, 0, 0) + mv(WORKER_STARTED, 0, 1)
                   + mv(WORKER_EXIT, FAILED, 1) + mv(RM_DOMAIN, DEV0),
    "worker-dies": b"\0" + attach() + mv(WORKER_STARTED, 0, 0)
                   + mv(WORKER_EXIT, DIED, 0) + fe(DEV0, 6) + fe(DEV0, 1)
                   + fe(DEV0, 3) + mv(WORKER_STARTED, 0, 1) + detach(),
    "incomplete": b"\0" + mv(CREATE, DEV0, 3) + mv(TIME, 0, 16)
                  + mv(BACKEND_NODE, DEV0, FRONTEND_ID, 1)
                  + mv(BACKEND_NODE, DEV0, FRONTEND, 18) + fe(DEV0, 3),
    "failures": b"\0" + mv(FAIL, 0, 2) + attach() + mv(FAIL, 0, 0)
                + mv(BACKEND_NODE, DEV0, 7, 17) + mv(FAIL, 0, 4)
                + mv(TIME, 0, 80) + mv(FAIL, 0, 0) + mv(TIME, 0, 80)
                + mv(CONFLICT, 0, 3) + mv(WORKER_STARTED, 0, 0) + detach(),
    "foreign": bytes([2 | 16 << 2]) + mv(BACKEND_NODE, DEV0, 8, 14)
               + mv(RESTART) + mv(RM_BACKEND_DIR, DEV0),
    "flood": b"\0" + attach() + mv(FLOOD, DEV0, 0) + mv(WORKER_STARTED, 0, 0)
             + mv(FLOOD, DEV0, 3) + detach(),
    "removed-mid-write": b"\0" + attach() + mv(RACE_RM, DEV0)
                         + mv(WORKER_STARTED, 0, 0) + mv(RACE_RM, DEV1)
                         + attach(DEV1),
    "removed-while-starting": b"\1" + attach(how=8) + mv(RM_BACKEND_DIR, DEV0)
                              + mv(HOTPLUG_DONE, 1, 0),
}
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
