# SPDX-License-Identifier: MIT
# The daemon and its control tool.

# The core: no class here. src/ring*.c is the kit's ring plumbing
# (include/xenbackd/ring.h), which every class may use.
XENBACKD_SOURCES := src/main.c src/config.c src/log.c src/clock.c src/classes.c \
	src/store.c src/device.c src/device-api.c src/report.c src/metrics.c \
	src/stats.c \
	src/hotplug.c src/worker.c \
	src/control.c src/buf.c src/notify.c src/owner.c src/check-uint.c \
	src/class-options.c src/kernel-backend.c $(sort $(wildcard src/ring*.c))
XENBACKD_LIBS = $(XEN_LIBS) $(EV_LIBS) $(URING_LIBS) $(NBD_LIBS) $(SD_LIBS) -lpthread

# The classes: a class is a directory (src/NAME/, examples/NAME/) whose
# module.mk appends its sources to XBD_CLASS_SOURCES, and one of them
# says XBD_CLASS_REGISTER(...) (class.h). Those fragments may be read
# after this one, so the list is expanded a second time, once every
# fragment is read.
.SECONDEXPANSION:
$(O)/xenbackd: $(addprefix $(O)/,$(XENBACKD_SOURCES:.c=.o)) \
		$$(patsubst %.c,$(O)/%.o,$$(XBD_CLASS_SOURCES))
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(XENBACKD_LIBS)
PROGRAMS += $(O)/xenbackd

# attach/detach talk to xenstore: libxenstore only, not the class API.
$(eval $(call program,xenbackctl,src/xenbackctl.c src/buf.c src/attach.c src/clock.c,-lxenstore -lm))
