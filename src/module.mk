# SPDX-License-Identifier: MIT
# The daemon and its control tool.

XENBACKD_SOURCES := src/main.c src/config.c src/log.c src/classes.c \
	src/builtin.c src/store.c src/device.c src/device-api.c src/report.c \
	src/hotplug.c src/worker.c \
	src/control.c src/buf.c src/notify.c
XENBACKD_LIBS = $(XEN_LIBS) $(EV_LIBS) $(URING_LIBS) $(SD_LIBS) -lpthread

# The block class (src/vbd/module.mk, read after this file) adds
# VBD_SOURCES; secondary expansion picks them up once every fragment is
# read, and builtin.c registers the class only when they exist.
.SECONDEXPANSION:
$(O)/xenbackd: $(addprefix $(O)/,$(XENBACKD_SOURCES:.c=.o)) \
		$$(patsubst %.c,$(O)/%.o,$$(VBD_SOURCES))
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(XENBACKD_LIBS)
PROGRAMS += $(O)/xenbackd

$(O)/src/builtin.o: ALL_CFLAGS += $(if $(VBD_SOURCES),-DXBD_WITH_VBD)
$(O)/src/builtin.o: $(wildcard src/vbd/module.mk src/vbd/vbd.h)

# attach/detach talk to xenstore: libxenstore only, not the class API.
$(eval $(call program,xenbackctl,src/xenbackctl.c src/buf.c src/attach.c,-lxenstore -lm))
