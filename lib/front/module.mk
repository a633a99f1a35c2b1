# SPDX-License-Identifier: MIT
# lib/front: libxbdfront, the kit's library for userspace PV frontends
# (include/xenbackd/front.h). Static: a frontend copied into a guest needs
# only libxen* and libc besides itself.

XBDFRONT_SRCS := lib/front/device.c lib/front/store.c lib/front/nodes.c \
	lib/front/rings.c
XBDFRONT_LIB  := $(O)/lib/libxbdfront.a
# What a program linked with it needs besides.
XBDFRONT_LIBS := -lxenstore -lxengnttab -lxenevtchn

$(XBDFRONT_LIB): $(addprefix $(O)/,$(XBDFRONT_SRCS:.c=.o))
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^
PROGRAMS += $(XBDFRONT_LIB)
