# SPDX-License-Identifier: MIT
# tests/bench: benchmark programs (not tests; see tests/bench/README.md).
# direct-io is the ceiling: blkfront's bench pattern done directly on the
# backing file with the daemon's I/O engine.

$(eval $(call program,tests/bench/direct-io,tests/bench/direct-io.c,$(URING_LIBS) -lpthread))
