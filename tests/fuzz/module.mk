# SPDX-License-Identifier: MIT
# libFuzzer targets of the block class; seed corpora in corpus/NAME.

$(eval $(call fuzzer,vbd-request,tests/fuzz/vbd-request.c src/vbd/request.c,))
$(eval $(call fuzzer,vbd-frontend,tests/fuzz/vbd-frontend.c src/vbd/frontend.c,))
# The fuzzer rule only knows the .c files.
build/fuzz/vbd-request build/fuzz/vbd-frontend: $(wildcard src/vbd/*.h)
