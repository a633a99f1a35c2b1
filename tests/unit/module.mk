# SPDX-License-Identifier: MIT
# Unit tests of the block class's modules.

VBD_TEST_STUBS := tests/unit/stubs.c
# The kit's pure parsers (ring.h, class.h), which the class's modules use.
KIT_PURE_SOURCES := src/ring-nodes.c src/check-uint.c

$(eval $(call program,tests/unit/test-ring,tests/unit/test-ring.c tests/unit/inproc-guest.c src/ring.c $(KIT_PURE_SOURCES) $(VBD_TEST_STUBS),$(EV_LIBS)))
$(eval $(call program,tests/unit/test-ring-nodes,tests/unit/test-ring-nodes.c $(KIT_PURE_SOURCES),))
$(eval $(call program,tests/unit/test-vbd-abi,tests/unit/test-vbd-abi.c src/vbd/request.c $(KIT_PURE_SOURCES),))
$(eval $(call program,tests/unit/test-vbd-request,tests/unit/test-vbd-request.c src/vbd/request.c,))
$(eval $(call program,tests/unit/test-vbd-frontend,tests/unit/test-vbd-frontend.c src/vbd/frontend.c $(KIT_PURE_SOURCES),))
$(eval $(call program,tests/unit/test-vbd-options,tests/unit/test-vbd-options.c src/vbd/options.c $(KIT_PURE_SOURCES),))
$(eval $(call program,tests/unit/test-vbd-io-engines,tests/unit/test-vbd-io-engines.c $(VBD_IO_SOURCES) $(VBD_TEST_STUBS),$(EV_LIBS) $(URING_LIBS) $(NBD_LIBS) -lpthread))

# The main process's check of an NBD export (nbdkit where installed).
$(eval $(call program,tests/unit/test-vbd-nbd-backing,tests/unit/test-vbd-nbd-backing.c src/vbd/backing.c,$(NBD_LIBS)))

# The metrics' plain functions: latency buckets, sums, label escaping.
$(eval $(call program,tests/unit/test-metrics,tests/unit/test-metrics.c src/stats.c src/buf.c,))

TESTS += $(addprefix $(O)/tests/unit/,test-ring test-ring-nodes test-metrics test-vbd-abi test-vbd-request \
	test-vbd-frontend test-vbd-options test-vbd-io-engines test-vbd-nbd-backing)

# The worker side against an in-process guest (grant table, event
# channel and the worker process of src/worker.c replaced in the test
# itself; the kit's rings, src/ring.c, are the daemon's).
VBD_WORKER_SOURCES := $(VBD_PURE_SOURCES) $(VBD_IO_SOURCES) \
	$(addprefix src/vbd/,backing.c grants.c ring.c dispatch.c worker.c) \
	src/ring.c $(KIT_PURE_SOURCES)
$(eval $(call program,tests/unit/test-vbd-worker,tests/unit/test-vbd-worker.c $(VBD_WORKER_SOURCES) $(VBD_TEST_STUBS),$(EV_LIBS) $(URING_LIBS) $(NBD_LIBS) -lpthread))
TESTS += $(O)/tests/unit/test-vbd-worker tests/unit/test-vbd-hotplug
