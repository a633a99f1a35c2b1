# SPDX-License-Identifier: MIT
# tests/frontend: the userspace blkfront (a test and benchmark frontend
# written against the real Xen APIs, on libxbdfront) and its self-tests.

BLKFRONT_CORE := tests/frontend/abi.c tests/frontend/ring.c \
	tests/frontend/request.c tests/frontend/pattern.c
BLKFRONT_SRCS := $(BLKFRONT_CORE) tests/frontend/main.c tests/frontend/blkdev.c \
	tests/frontend/grants.c tests/frontend/workload.c tests/frontend/hostile.c

# Only libxen* and libc, so it can be copied into a busybox guest with ldd.
$(eval $(call program,tests/frontend/blkfront,$(BLKFRONT_SRCS),$(XBDFRONT_LIB) $(XBDFRONT_LIBS)))
$(O)/tests/frontend/blkfront: $(XBDFRONT_LIB)
$(eval $(call program,tests/frontend/selftest,tests/frontend/selftest.c $(BLKFRONT_CORE),))

TESTS += $(O)/tests/frontend/selftest tests/frontend/handshake-test

# A deliberately broken backend, to check that blkfront catches one.
$(eval $(call program,tests/frontend/lying-backend,tests/frontend/lying-backend.c tests/frontend/abi.c tests/frontend/ring.c,-lxenstore -lxengnttab -lxenevtchn))
TESTS += tests/frontend/lying-backend-test

# libxbdfront on the test bed, against a fake backend and the daemon.
$(eval $(call program,tests/frontend/front-lib-check,tests/frontend/front-lib-check.c,$(XBDFRONT_LIB) $(XBDFRONT_LIBS)))
$(O)/tests/frontend/front-lib-check: $(XBDFRONT_LIB)
TESTS += tests/frontend/test-front-lib
