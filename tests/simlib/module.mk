# SPDX-License-Identifier: MIT
# tests/simlib: drop-in libxengnttab.so.1 and libxenevtchn.so.1 that
# simulate Xen grants and event channels between processes (README.md).
# Programs linked against Debian's libraries run on them through
# LD_LIBRARY_PATH=$(O)/tests/simlib.

SIMLIB_COMMON := tests/simlib/sim_common.c tests/simlib/evtchn_ports.c
SIMLIB_GNTTAB := $(SIMLIB_COMMON) tests/simlib/grant_table.c \
	tests/simlib/gntdev_handle.c tests/simlib/gnttab_map.c \
	tests/simlib/gnttab_copy.c tests/simlib/gntshr.c
SIMLIB_EVTCHN := $(SIMLIB_COMMON) tests/simlib/evtchn_handle.c
SIMLIB_LIBS   := -lxentoolcore -lxentoollog -lpthread

$(eval $(call shlib,tests/simlib/libxengnttab.so.1,$(SIMLIB_GNTTAB),$(SIMLIB_LIBS),tests/simlib/libxengnttab.map))
$(eval $(call shlib,tests/simlib/libxenevtchn.so.1,$(SIMLIB_EVTCHN),$(SIMLIB_LIBS),tests/simlib/libxenevtchn.map))

# Tests link against the real libraries and re-exec themselves onto these.
SIMLIB_SOS   := $(O)/tests/simlib/libxengnttab.so.1 $(O)/tests/simlib/libxenevtchn.so.1
SIMLIB_TESTS := test-simlib-grant test-simlib-evtchn test-simlib-restrict \
	test-simlib-maps test-simlib-env
$(foreach t,$(SIMLIB_TESTS) bench-simlib,$(eval $(call program,tests/simlib/$(t),tests/simlib/$(t).c tests/simlib/simtest.c,$(XEN_LIBS))))
$(foreach t,$(SIMLIB_TESTS) bench-simlib,$(eval $(O)/tests/simlib/$(t): | $(SIMLIB_SOS)))

# The stress test reads the grant table file itself when it is done.
$(eval $(call program,tests/simlib/test-simlib-stress,tests/simlib/test-simlib-stress.c tests/simlib/simtest.c tests/simlib/grant_table.c tests/simlib/sim_common.c,$(XEN_LIBS)))
$(O)/tests/simlib/test-simlib-stress: | $(SIMLIB_SOS)

TESTS += $(addprefix $(O)/tests/simlib/,$(SIMLIB_TESTS) test-simlib-stress) \
	tests/simlib/test-simlib-abi
