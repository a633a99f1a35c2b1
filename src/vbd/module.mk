# SPDX-License-Identifier: MIT
# The block device class (blkif). Its sources join the daemon through
# XBD_CLASS_SOURCES (src/module.mk); vbd.c registers vbd_class itself.

VBD_PURE_SOURCES := $(addprefix src/vbd/,request.c frontend.c options.c)
VBD_IO_SOURCES := $(addprefix src/vbd/,io.c io-uring.c io-threads.c io-nbd.c)
VBD_SOURCES := $(VBD_PURE_SOURCES) $(VBD_IO_SOURCES) \
	$(addprefix src/vbd/,backing.c grants.c ring.c dispatch.c worker.c vbd.c)
XBD_CLASS_SOURCES += $(VBD_SOURCES)
