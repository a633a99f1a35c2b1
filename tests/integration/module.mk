# SPDX-License-Identifier: MIT
# Integration tests of the daemon. xenbackd-null is the daemon's core with
# a class that serves nothing, so the lifecycle tests need no I/O class.

$(eval $(call program,tests/integration/xenbackd-null,$(filter-out src/builtin.c,$(XENBACKD_SOURCES)) tests/integration/null-class.c,$(XENBACKD_LIBS)))

TESTS += $(sort $(wildcard tests/integration/test-*))
