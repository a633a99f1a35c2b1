/* SPDX-License-Identifier: MIT */
/*
 * The block class's options: defaults, every key, bad values kept at
 * their defaults with a warning, and the start-time check of one line.
 */
#include <string.h>

#include "check.h"
#include "vbd/options.h"

static const char *const *table;
static int warnings;

static const char *get(const char *key)
{
	const char *const *p;

	for (p = table; p && p[0]; p += 2)
		if (!strcmp(p[0], key))
			return p[1];
	return NULL;
}

static void warn(const char *key, const char *value, const char *why)
{
	warnings++;
	if (getenv("XBD_TEST_VERBOSE"))
		fprintf(stderr, "warn %s=%s: %s\n", key, value, why);
}

int main(void)
{
	static const char *const all[] = {
		"io-engine", "threads", "io-threads", "3", "io-depth", "64",
		"direct-io", "off", "grant-mode", "copy",
		"max-ring-page-order", "2", "max-queues", "8",
		"max-indirect-segments", "512", "max-persistent-grants", "100",
		"flush-cache", "no", "barrier", "0", "discard", "off",
		"persistent", "false", "file-sector-size", "4096",
		"batch", "16", "online-resize", "0",
		"nbd-connect-timeout", "10", "nbd-reconnect-delay", "250",
		"nbd-request-timeout", "30", NULL,
	};
	static const char *const bad[] = {
		"io-engine", "aio", "io-threads", "0", "direct-io", "maybe",
		"max-ring-page-order", "5", "max-queues", "17",
		"flush-cache", "2", "file-sector-size", "1024",
		"max-indirect-segments", "-1", "batch", "",
		"nbd-connect-timeout", "0", "nbd-reconnect-delay", "99",
		"nbd-request-timeout", "3601", NULL,
	};
	struct vbd_options o;

	vbd_options_load(&o, NULL, NULL);
	CHECK_EQ(o.io_engine, VBD_ENGINE_AUTO);
	CHECK_EQ(o.direct_io, VBD_DIRECT_AUTO);
	CHECK_EQ(o.grant_mode, VBD_GRANT_MAP);
	CHECK_EQ(o.max_ring_order, 4);
	CHECK(o.max_queues >= 4 && o.max_queues <= 16);
	CHECK_EQ(o.max_indirect_segments, 256);
	CHECK(o.flush && o.barrier && o.discard && o.persistent);
	CHECK(o.online_resize);
	CHECK_EQ(o.file_sector_size, 512);
	CHECK_EQ(o.nbd_timeout, 3);
	CHECK_EQ(o.nbd_retry, 1000);
	CHECK_EQ(o.nbd_request_timeout, 0);

	table = all;
	vbd_options_load(&o, get, warn);
	CHECK_EQ(warnings, 0);
	CHECK_EQ(o.io_engine, VBD_ENGINE_THREADS);
	CHECK_EQ(o.io_threads, 3);
	CHECK_EQ(o.io_depth, 64);
	CHECK_EQ(o.direct_io, VBD_DIRECT_OFF);
	CHECK_EQ(o.grant_mode, VBD_GRANT_COPY);
	CHECK_EQ(o.max_ring_order, 2);
	CHECK_EQ(o.max_queues, 8);
	CHECK_EQ(o.max_indirect_segments, 512);
	CHECK_EQ(o.max_persistent_grants, 100);
	CHECK(!o.flush && !o.barrier && !o.discard && !o.persistent);
	CHECK_EQ(o.file_sector_size, 4096);
	CHECK_EQ(o.batch, 16);
	CHECK(!o.online_resize);
	CHECK_EQ(o.nbd_timeout, 10);
	CHECK_EQ(o.nbd_retry, 250);
	CHECK_EQ(o.nbd_request_timeout, 30);

	table = bad;
	warnings = 0;
	vbd_options_load(&o, get, warn);
	CHECK_EQ(warnings, 12);
	CHECK_EQ(o.nbd_timeout, 3);
	CHECK_EQ(o.nbd_retry, 1000);
	CHECK_EQ(o.nbd_request_timeout, 0);
	CHECK_EQ(o.io_engine, VBD_ENGINE_AUTO);
	CHECK_EQ(o.io_threads, 8);
	CHECK_EQ(o.direct_io, VBD_DIRECT_AUTO);
	CHECK_EQ(o.max_ring_order, 4);
	CHECK(o.max_queues <= 16);
	CHECK(o.flush);
	CHECK_EQ(o.file_sector_size, 512);
	CHECK_EQ(o.max_indirect_segments, 256);
	CHECK_EQ(o.batch, 64);

	/* Indirect of 11 segments or fewer is no indirect at all. */
	{
		static const char *const small[] = {
			"max-indirect-segments", "11", NULL,
		};
		table = small;
		vbd_options_load(&o, get, warn);
		CHECK_EQ(o.max_indirect_segments, 0);
	}
	/*
	 * The start-time check of one config line: the same parser, so it
	 * takes what a load takes and refuses what a load would warn about.
	 */
	{
		char why[128];
		const char *const *p;

		for (p = all; p[0]; p += 2) {
			why[0] = '\0';
			CHECK_EQ(vbd_option_check(p[0], p[1], why, sizeof(why)), 0);
			CHECK_EQ(why[0], '\0');
		}
		for (p = bad; p[0]; p += 2) {
			why[0] = '\0';
			CHECK_EQ(vbd_option_check(p[0], p[1], why, sizeof(why)), -1);
			CHECK(why[0] && strcmp(why, "unknown key"));
		}
		CHECK_EQ(vbd_option_check("nonsense", "1", why, sizeof(why)), -1);
		CHECK(!strcmp(why, "unknown key"));
		CHECK_EQ(vbd_option_check("io-engine", "io_uring", why,
					  sizeof(why)), 0);
		CHECK_EQ(vbd_option_check("io-engine", "auto", why,
					  sizeof(why)), 0);
		CHECK_EQ(vbd_option_check("max-ring-page-order", "99", why,
					  sizeof(why)), -1);
		CHECK(!strcmp(why, "not a number from 0 to 4"));
		CHECK_EQ(vbd_option_check("io-engine", "aio", why, sizeof(why)),
			 -1);
		CHECK(!strcmp(why, "not one of auto, io_uring, threads"));
		CHECK_EQ(vbd_option_check("file-sector-size", "1024", why,
					  sizeof(why)), -1);
		CHECK(!strcmp(why, "not 512 or 4096"));
		/* A key differing only in case is another key. */
		CHECK_EQ(vbd_option_check("IO-Engine", "threads", why,
					  sizeof(why)), -1);
		/* A why too small is cut, never overrun; none at all is fine. */
		CHECK_EQ(vbd_option_check("batch", "0", why, 8), -1);
		CHECK_EQ(strlen(why), 7);
		CHECK_EQ(vbd_option_check("batch", "0", NULL, 0), -1);
		CHECK_EQ(vbd_option_check("nonsense", "1", NULL, 0), -1);
		CHECK_EQ(vbd_option_check("batch", "4096", NULL, 0), 0);
	}
	return test_exit("test-vbd-options");
}
