# SPDX-License-Identifier: MIT
# The block device class (blkif). The core links VBD_SOURCES into the
# daemon (src/module.mk), and builtin.c registers vbd_class.

VBD_PURE_SOURCES := $(addprefix src/vbd/,request.c frontend.c options.c)
VBD_IO_SOURCES := $(addprefix src/vbd/,io.c io-uring.c io-threads.c)
VBD_SOURCES := $(VBD_PURE_SOURCES) $(VBD_IO_SOURCES) \
	$(addprefix src/vbd/,backing.c grants.c ring.c dispatch.c worker.c vbd.c)
