# SPDX-License-Identifier: MIT
# The documentation's commands, run as tests.
TESTS += tests/docs/test-tutorial
