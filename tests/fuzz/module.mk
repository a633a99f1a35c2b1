# SPDX-License-Identifier: MIT
# libFuzzer targets of the kit, the block class and the echo example;
# seed corpora in corpus/NAME.

$(eval $(call fuzzer,ring-nodes,tests/fuzz/ring-nodes.c src/ring-nodes.c,))
$(eval $(call fuzzer,vbd-request,tests/fuzz/vbd-request.c src/vbd/request.c src/ring-nodes.c,))
$(eval $(call fuzzer,vbd-frontend,tests/fuzz/vbd-frontend.c src/vbd/frontend.c src/ring-nodes.c,))
# The echo class, linked as the daemon links it, on the kit's rings and
# the unit tests' in-process guest.
ECHO_RING_SOURCES := tests/fuzz/echo-ring.c tests/unit/inproc-guest.c \
	tests/unit/stubs.c examples/echo/backend/echo.c src/classes.c \
	src/class-options.c src/check-uint.c src/ring.c src/ring-nodes.c \
	src/ring-frontend.c
$(eval $(call fuzzer,echo-ring,$(ECHO_RING_SOURCES),$(EV_LIBS)))
# The fuzzer rule only knows the .c files.
build/fuzz/vbd-request build/fuzz/vbd-frontend: $(wildcard src/vbd/*.h)
build/fuzz/ring-nodes build/fuzz/vbd-request build/fuzz/vbd-frontend: $(wildcard include/xenbackd/*.h)
build/fuzz/echo-ring: $(wildcard include/xenbackd/*.h src/*.h) \
	tests/unit/inproc-guest.h examples/echo/echoif.h
# The block class's whole worker side on the kit's rings and the unit
# tests' in-process guest; the I/O engines replaced by the fuzzer's own.
VBD_RING_SOURCES := tests/fuzz/vbd-ring.c tests/unit/inproc-guest.c \
	tests/unit/stubs.c $(VBD_PURE_SOURCES) src/vbd/io.c \
	$(addprefix src/vbd/,backing.c grants.c ring.c dispatch.c worker.c) \
	src/ring.c src/ring-nodes.c src/check-uint.c
$(eval $(call fuzzer,vbd-ring,$(VBD_RING_SOURCES),$(EV_LIBS) $(NBD_LIBS)))
build/fuzz/vbd-ring: $(wildcard include/xenbackd/*.h src/*.h src/vbd/*.h) \
	tests/unit/inproc-guest.h
# The core's device lifecycle (device.c, device-api.c, store.c) on an
# in-memory libxenstore, with the hotplug runner, the workers and the
# clock replaced by records the input drives.
DEVICE_STATES_SOURCES := tests/fuzz/device-states.c tests/unit/stubs.c \
	src/device.c src/device-api.c src/store.c src/stats.c src/owner.c \
	src/buf.c
$(eval $(call fuzzer,device-states,$(DEVICE_STATES_SOURCES),$(EV_LIBS)))
build/fuzz/device-states: $(wildcard include/xenbackd/*.h src/*.h) \
	tests/unit/stubs.h
build/fuzz/echo-ring build/fuzz/vbd-ring build/fuzz/device-states: \
	tests/fuzz/watchdog.h

# make fuzz-long: each fuzzer (or those in FUZZ_LONG_TARGETS, names) for
# FUZZ_LONG_SECONDS, FUZZ_LONG_JOBS at a time, on corpora kept in
# build/fuzz-long/; prints executions, coverage and crashes per target.
FUZZ_LONG_SECONDS ?= 600
FUZZ_LONG_JOBS ?= 1
FUZZ_LONG_TARGETS ?=
FUZZ_LONG_RUN = $(if $(FUZZ_LONG_TARGETS),$(addprefix build/fuzz/,$(FUZZ_LONG_TARGETS)),$(FUZZERS))
fuzz-long: $$(FUZZ_LONG_RUN)
	tests/fuzz/run-long -j $(FUZZ_LONG_JOBS) $(FUZZ_LONG_SECONDS) $(FUZZ_LONG_RUN)
.PHONY: fuzz-long
