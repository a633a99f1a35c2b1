# SPDX-License-Identifier: MIT
# make soak: the bounded soak on the test bed (tests/soak/README.md), not
# a test: SOAK_SECONDS (600) of SOAK_GUESTS (20) guests cycling attach,
# verify, detach and reconnects while the daemon is killed and started
# again; SOAK_ARGS for more (--kill-workers, --seed N, --epoch S).
SOAK_SECONDS ?= 600
SOAK_GUESTS ?= 20
SOAK_ARGS ?=
soak: all
	XBD_BUILD=$(O) XBD_SRC=. nice -n 10 tests/soak/soak \
		--seconds $(SOAK_SECONDS) --guests $(SOAK_GUESTS) $(SOAK_ARGS)
.PHONY: soak
