# SPDX-License-Identifier: MIT
# libFuzzer targets of the kit and the block class; seed corpora in
# corpus/NAME.

$(eval $(call fuzzer,ring-nodes,tests/fuzz/ring-nodes.c src/ring-nodes.c,))
$(eval $(call fuzzer,vbd-request,tests/fuzz/vbd-request.c src/vbd/request.c src/ring-nodes.c,))
$(eval $(call fuzzer,vbd-frontend,tests/fuzz/vbd-frontend.c src/vbd/frontend.c src/ring-nodes.c,))
# The fuzzer rule only knows the .c files.
build/fuzz/vbd-request build/fuzz/vbd-frontend: $(wildcard src/vbd/*.h)
build/fuzz/ring-nodes build/fuzz/vbd-request build/fuzz/vbd-frontend: $(wildcard include/xenbackd/*.h)
