/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pattern.h"

uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t rng_below(uint64_t *state, uint64_t n)
{
	/* Modulo bias is irrelevant for test offsets. */
	return rng_next(state) % n;
}

void pattern_fill(void *buf, size_t len, uint64_t seed, uint64_t sector, uint64_t gen)
{
	for (size_t off = 0; off + 512 <= len; off += 512, sector++) {
		struct sector_header h = {
			.magic = PATTERN_MAGIC, .sector = sector, .gen = gen, .seed = seed,
		};
		uint64_t st = seed ^ (sector * 0x100000001b3ull) ^ (gen << 40), w;
		char *p = (char *)buf + off;

		memcpy(p, &h, sizeof(h));
		for (size_t i = sizeof(h); i < 512; i += 8) {
			w = rng_next(&st);
			memcpy(p + i, &w, 8);
		}
	}
}

uint64_t sector_sum(const void *sector)
{
	/* FNV-1a over 64-bit words, then a final mix. */
	uint64_t h = 0xcbf29ce484222325ull, w;

	for (size_t i = 0; i < 512; i += 8) {
		memcpy(&w, (const char *)sector + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

void pattern_describe(const void *sector, char *out, size_t outlen)
{
	struct sector_header h;
	static const char zero[512];

	memcpy(&h, sector, sizeof(h));
	if (h.magic == PATTERN_MAGIC)
		snprintf(out, outlen, "data written for sector %" PRIu64 " gen %" PRIu64
			 " seed %" PRIu64, h.sector, h.gen, h.seed);
	else if (!memcmp(sector, zero, 512))
		snprintf(out, outlen, "zeroes");
	else
		snprintf(out, outlen, "unrecognised data (first bytes %02x %02x %02x %02x)",
			 ((const unsigned char *)sector)[0], ((const unsigned char *)sector)[1],
			 ((const unsigned char *)sector)[2], ((const unsigned char *)sector)[3]);
}
