# SPDX-License-Identifier: MIT
# tests/blkif: the blkif protocol suites of issue 5, on the simulation test
# bed with the userspace blkfront: a hostile frontend (bad requests, ring
# abuse, bad handshakes) and data integrity across the feature matrix, plus
# flush, discard and read-only observed on the backing store. Scripts only;
# see tests/blkif/README.md.
TESTS += $(sort $(wildcard tests/blkif/test-*))
