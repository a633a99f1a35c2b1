#!/bin/sh
# SPDX-License-Identifier: MIT
# Generates ./configure from configure.ac.
set -e
cd "$(dirname "$0")"
autoreconf -i -f
