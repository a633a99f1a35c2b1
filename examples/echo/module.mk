# SPDX-License-Identifier: MIT
# The kit's example pair (examples/echo/README.md). A class is a directory:
# this line is all it takes to build the echo class into the daemon.
XBD_CLASS_SOURCES += examples/echo/backend/echo.c

# The userspace frontend and the hostile one, on libxbdfront.
ECHO_FRONT_LIBS = $(XBDFRONT_LIB) $(XBDFRONT_LIBS)
$(eval $(call program,examples/echo/frontend/echofront,examples/echo/frontend/echofront.c,$(ECHO_FRONT_LIBS)))
$(eval $(call program,examples/echo/tests/echo-hostile,examples/echo/tests/echo-hostile.c,$(ECHO_FRONT_LIBS)))
$(O)/examples/echo/frontend/echofront $(O)/examples/echo/tests/echo-hostile: $(XBDFRONT_LIB)

TESTS += examples/echo/tests/test-echo
