/* SPDX-License-Identifier: MIT */
/*
 * Data patterns and checksums for verifying what a disk returns.
 *
 * Every 512-byte sector written by the verify workload starts with a
 * header naming what it is (sector number, write generation, seed), then
 * pseudo-random bytes derived from those. A read is checked against the
 * checksum remembered for each sector; on a mismatch the header tells
 * which write the data actually came from (misdirected, stale, torn).
 */
#ifndef BLKFRONT_PATTERN_H
#define BLKFRONT_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATTERN_MAGIC 0x626c6b66726e74ull	/* "blkfrnt" */

struct sector_header {
	uint64_t magic;
	uint64_t sector;	/* 512-byte sector number on the disk */
	uint64_t gen;		/* which write of this sector */
	uint64_t seed;
};

/* splitmix64: small, fast, good enough to choose offsets and sizes. */
uint64_t rng_next(uint64_t *state);
/* Uniform in [0, n) (n > 0). */
uint64_t rng_below(uint64_t *state, uint64_t n);

/* Fills len bytes (a multiple of 512) for sectors from `sector` on. */
void pattern_fill(void *buf, size_t len, uint64_t seed, uint64_t sector, uint64_t gen);

/* 64-bit checksum of one 512-byte sector. */
uint64_t sector_sum(const void *sector);

/*
 * Describes what a sector holds, for error messages: "sector S gen G" for
 * pattern data, "zeroes", or "unknown data".
 */
void pattern_describe(const void *sector, char *out, size_t outlen);

#endif
