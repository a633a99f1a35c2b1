# SPDX-License-Identifier: MIT
# The build system's promises, tested: what make installs (and what it
# never does), classes and frontends built outside the tree.
TESTS += tests/make/test-deps tests/make/test-out-of-tree tests/make/test-spdx
