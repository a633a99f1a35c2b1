# SPDX-License-Identifier: MIT
# The simulation test bed: a test xenstored on unix sockets, the testbed
# command that runs simulations, and their tests (see README.md here).

TESTBED_XENSTORED_CORE := $(addprefix tests/testbed/,strmap.c paths.c \
	perms.c store.c txn.c tree.c watch.c conn.c requests.c domain.c server.c)
TESTBED_TEST_UTIL := tests/testbed/testutil.c

$(eval $(call program,tests/testbed/xenstored,$(TESTBED_XENSTORED_CORE) tests/testbed/xenstored.c,))
$(eval $(call program,tests/testbed/testbed,tests/testbed/testbed.c,-lxenstore))

$(eval $(call program,tests/testbed/test-libxenstore,tests/testbed/test-libxenstore.c $(TESTBED_TEST_UTIL),-lxenstore))
$(eval $(call program,tests/testbed/test-garbage-clients,tests/testbed/test-garbage-clients.c $(TESTBED_TEST_UTIL),-lxenstore))
$(eval $(call program,tests/testbed/test-slow-client,tests/testbed/test-slow-client.c $(TESTBED_TEST_UTIL),-lxenstore))
TESTS += tests/testbed/test-xenstore-tools.sh \
	$(O)/tests/testbed/test-libxenstore \
	$(O)/tests/testbed/test-garbage-clients \
	$(O)/tests/testbed/test-slow-client

$(eval $(call fuzzer,xenstored-wire,$(TESTBED_XENSTORED_CORE) tests/testbed/fuzz-xenstored-wire.c,))
# The fuzzer rule only knows the .c files.
build/fuzz/xenstored-wire: $(wildcard tests/testbed/*.h)
