# SPDX-License-Identifier: MIT
# Integration tests of the daemon. xenbackd-null is the daemon's core
# with test classes instead of those of src/: null, which serves nothing
# (so the lifecycle tests need no I/O class), and bare, which sets only
# the required callbacks. They register themselves (XBD_CLASS_REGISTER),
# as every class does. xenbackd-twin has two classes of one name, which
# the daemon must refuse.

$(eval $(call program,tests/integration/xenbackd-null,$(XENBACKD_SOURCES) tests/integration/null-class.c tests/integration/bare-class.c,$(XENBACKD_LIBS)))
# xenbackd-ktwin adds a class whose kernel counterpart is always loaded.
$(eval $(call program,tests/integration/xenbackd-ktwin,$(XENBACKD_SOURCES) tests/integration/null-class.c tests/integration/kernel-twin-class.c,$(XENBACKD_LIBS)))
$(eval $(call program,tests/integration/xenbackd-twin,$(XENBACKD_SOURCES) tests/integration/null-class.c tests/integration/twin-class.c,$(XENBACKD_LIBS)))

TESTS += $(sort $(wildcard tests/integration/test-*))
