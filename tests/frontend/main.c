/* SPDX-License-Identifier: MIT */
/*
 * blkfront: a userspace Xen block frontend for testing and benchmarking
 * block backends. It uses only the real Xen library APIs (libxenstore,
 * xengntshr_* from libxengnttab, libxenevtchn), so the same binary runs on
 * the simulation test bed and inside a real Xen PV domain.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkdev.h"
#include "hostile.h"
#include "workload.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: blkfront [OPTION]... DEVICE\n"
"A userspace Xen blkfront: connects to the backend of DEVICE as this domain,\n"
"runs the chosen workloads, then closes the device like Linux blkfront.\n"
"DEVICE is a virtual-device number (51712), a name (xvda) or a frontend path\n"
"(/local/domain/5/device/vbd/51712).\n"
"\n"
"Connection:\n"
"  --domid N            this domain (default: xenstore `domid`, then $XENSIM_DOMID)\n"
"  --class NAME         device directory class (default vbd)\n"
"  --abi x86_64|x86_32  ring ABI written to `protocol` (default x86_64)\n"
"  --no-protocol-node   leave `protocol` unwritten: the backend assumes its\n"
"                       native ABI (blkif.h), taken to be x86_64; not with\n"
"                       --abi x86_32\n"
"  --queues N           rings wanted (default 1; capped by multi-queue-max-queues)\n"
"  --ring-order N       log2 ring pages wanted (default 0; capped by max-ring-page-order)\n"
"  --no-persistent      do not offer feature-persistent\n"
"  --no-indirect        never use indirect descriptors\n"
"  --max-indirect N     cap indirect segments per request (default: backend's)\n"
"  --max-grants N       cap the persistent grant pool, in pages (>= 32, in steps\n"
"                       of 32); the largest request shrinks to fit\n"
"  --timeout S          longest wait for the backend or an answer (default 30)\n"
"Workloads (run in this order):\n"
"  --write-file F       write F's bytes to the disk at --offset\n"
"  --read-file F        read --length bytes (default: what --write-file wrote,\n"
"                       else to the disk's end) from --offset into F\n"
"  --verify             --count random reads/writes of 1 sector up to the largest\n"
"                       request over --offset/--length (default 64 MiB), every read\n"
"                       checked against checksums of what was written; then the\n"
"                       whole region is read back and checked\n"
"  --discard OFF:LEN    one discard (bytes); --secure sets BLKIF_DISCARD_SECURE\n"
"  --flush              one BLKIF_OP_FLUSH_DISKCACHE\n"
"  --barrier            one BLKIF_OP_WRITE_BARRIER without data\n"
"  --bench S            S seconds of --rw at --qd with --bs; prints a `bench:` line\n"
"  --hold               stay connected until SIGTERM/SIGINT or the backend closes\n"
"Parameters:\n"
"  --offset B --length B --bs B (k/M/G suffixes)  --qd N  --count N  --seed N\n"
"  --rw read|write|randread|randwrite|randrw (default randread)\n"
"  --expect okay|error|eopnotsupp   status every workload request must get\n"
"                       (default okay); when not okay, one read must still work.\n"
"                       Not with --verify (it checks data); --bench counts the\n"
"                       requests that got it and fails when none did\n"
"  --expect-error       same as --expect error\n"
"Ending:\n"
"  --no-close           exit without closing or unsharing, like a crashed guest\n"
"Misbehaving:\n"
"  --hostile CASE[:VALUE]  do one bad thing and report the backend's reaction\n"
"  --list-hostile       list the cases\n"
"\n"
"Exit status: 0 every request and check passed; 1 a failure; 2 usage;\n"
"77 a hostile case that does not apply to this backend.\n");
}

enum {
	OPT_DOMID = 256, OPT_CLASS, OPT_ABI, OPT_NO_PROTOCOL_NODE, OPT_QUEUES, OPT_RING_ORDER, OPT_NO_PERSISTENT,
	OPT_NO_INDIRECT, OPT_MAX_INDIRECT, OPT_MAX_GRANTS, OPT_TIMEOUT, OPT_WRITE_FILE,
	OPT_READ_FILE, OPT_VERIFY, OPT_DISCARD, OPT_SECURE, OPT_FLUSH, OPT_BARRIER, OPT_BENCH,
	OPT_HOLD, OPT_OFFSET, OPT_LENGTH, OPT_BS, OPT_QD, OPT_COUNT, OPT_SEED, OPT_RW,
	OPT_EXPECT, OPT_EXPECT_ERROR, OPT_NO_CLOSE, OPT_HOSTILE, OPT_LIST_HOSTILE, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "domid", required_argument, NULL, OPT_DOMID },
	{ "class", required_argument, NULL, OPT_CLASS },
	{ "abi", required_argument, NULL, OPT_ABI },
	{ "no-protocol-node", no_argument, NULL, OPT_NO_PROTOCOL_NODE },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "ring-order", required_argument, NULL, OPT_RING_ORDER },
	{ "no-persistent", no_argument, NULL, OPT_NO_PERSISTENT },
	{ "no-indirect", no_argument, NULL, OPT_NO_INDIRECT },
	{ "max-indirect", required_argument, NULL, OPT_MAX_INDIRECT },
	{ "max-grants", required_argument, NULL, OPT_MAX_GRANTS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "write-file", required_argument, NULL, OPT_WRITE_FILE },
	{ "read-file", required_argument, NULL, OPT_READ_FILE },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "discard", required_argument, NULL, OPT_DISCARD },
	{ "secure", no_argument, NULL, OPT_SECURE },
	{ "flush", no_argument, NULL, OPT_FLUSH },
	{ "barrier", no_argument, NULL, OPT_BARRIER },
	{ "bench", required_argument, NULL, OPT_BENCH },
	{ "hold", no_argument, NULL, OPT_HOLD },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "bs", required_argument, NULL, OPT_BS },
	{ "qd", required_argument, NULL, OPT_QD },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "rw", required_argument, NULL, OPT_RW },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "expect-error", no_argument, NULL, OPT_EXPECT_ERROR },
	{ "no-close", no_argument, NULL, OPT_NO_CLOSE },
	{ "hostile", required_argument, NULL, OPT_HOSTILE },
	{ "list-hostile", no_argument, NULL, OPT_LIST_HOSTILE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct args {
	struct blkdev_opts bo;
	struct workload_opts wo;
	bool have_domid, seed_given;
	const char *class, *device;
	const char *write_file, *read_file, *hostile;
	bool verify, flush, barrier, hold, no_close, secure;
	bool have_discard;
	uint64_t discard_off, discard_len;
	bool bench;
};

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "blkfront: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry blkfront --help.\n");
	exit(2);
}

/* A byte count with an optional k/M/G/T suffix (powers of 1024). */
static uint64_t parse_size(const char *s, const char *opt)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		die_usage("bad size for %s", opt);
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: die_usage("bad size for %s", opt);
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' ? (end[1] == 'B' ? 2 : 1) : 1;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		die_usage("bad size for %s", opt);
	return (uint64_t)v << shift;
}

static unsigned parse_uint(const char *s, const char *opt, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max)
		die_usage("bad number for %s", opt);
	return (unsigned)v;
}

static int parse_expect(const char *s)
{
	if (!strcmp(s, "okay") || !strcmp(s, "ok"))
		return BLKIF_RSP_OKAY;
	if (!strcmp(s, "error"))
		return BLKIF_RSP_ERROR;
	if (!strcmp(s, "eopnotsupp"))
		return BLKIF_RSP_EOPNOTSUPP;
	return die_usage("--expect takes okay, error or eopnotsupp, not %s", s);
}

/*
 * A disk name to a virtual-device number (docs/misc/vbd-interface.txt):
 * xvdX is 202 << 8 | disk << 4 up to xvdp, then the extended form.
 */
static bool xvd_number(const char *s, unsigned long *v)
{
	unsigned long disk = 0;

	if (strncmp(s, "xvd", 3) || !s[3])
		return false;
	for (s += 3; *s; s++) {
		if (*s < 'a' || *s > 'z')
			return false;
		disk = disk * 26 + (unsigned long)(*s - 'a') + 1;
		if (disk > 1u << 20)
			return false;
	}
	disk--;
	*v = disk < 16 ? (202ul << 8) | (disk << 4) : (1ul << 28) | (disk << 8);
	return true;
}

static void parse_args(int argc, char **argv, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->class = "vbd";
	a->bo.abi = BLK_ABI_X86_64;
	a->bo.queues = 1;
	a->bo.persistent = true;
	a->bo.indirect = true;
	a->bo.timeout_ms = 30000;
	a->bo.wait_initwait = true;
	a->wo.rw = BENCH_RANDREAD;
	a->wo.expect = BLKIF_RSP_OKAY;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_DOMID:
			a->bo.domid = parse_uint(optarg, "--domid", 0x7fef);
			a->have_domid = true;
			break;
		case OPT_CLASS: a->class = optarg; break;
		case OPT_ABI:
			if (abi_parse(optarg, &a->bo.abi))
				die_usage("--abi takes x86_64 or x86_32, not %s", optarg);
			break;
		case OPT_NO_PROTOCOL_NODE: a->bo.no_protocol_node = true; break;
		case OPT_QUEUES:
			a->bo.queues = parse_uint(optarg, "--queues", BLKFRONT_MAX_QUEUES);
			if (!a->bo.queues)
				die_usage("%s must be at least 1", "--queues");
			break;
		case OPT_RING_ORDER:
			a->bo.ring_order = parse_uint(optarg, "--ring-order", BLKFRONT_MAX_RING_ORDER);
			break;
		case OPT_NO_PERSISTENT: a->bo.persistent = false; break;
		case OPT_NO_INDIRECT: a->bo.indirect = false; break;
		case OPT_MAX_INDIRECT:
			a->bo.max_indirect = parse_uint(optarg, "--max-indirect", BLK_MAX_INDIRECT_SEGS);
			break;
		case OPT_MAX_GRANTS:
			a->bo.max_grants = parse_uint(optarg, "--max-grants", 1u << 24);
			if (a->bo.max_grants < GPOOL_CHUNK_PAGES)
				die_usage("%s: the pool grows 32 pages at a time; give at least 32",
					  "--max-grants");
			break;
		case OPT_TIMEOUT:
			a->bo.timeout_ms = (int)parse_uint(optarg, "--timeout", 86400) * 1000;
			break;
		case OPT_WRITE_FILE: a->write_file = optarg; break;
		case OPT_READ_FILE: a->read_file = optarg; break;
		case OPT_VERIFY: a->verify = true; break;
		case OPT_DISCARD: {
			char *colon = strchr(optarg, ':');

			if (!colon)
				die_usage("--discard takes OFFSET:LENGTH, not %s", optarg);
			*colon = 0;
			a->discard_off = parse_size(optarg, "--discard");
			a->discard_len = parse_size(colon + 1, "--discard");
			a->have_discard = true;
			break;
		}
		case OPT_SECURE: a->secure = true; break;
		case OPT_FLUSH: a->flush = true; break;
		case OPT_BARRIER: a->barrier = true; break;
		case OPT_BENCH: {
			char *end;

			a->wo.seconds = strtod(optarg, &end);
			if (*end || end == optarg || a->wo.seconds <= 0 || a->wo.seconds > 86400)
				die_usage("bad seconds for --bench: %s", optarg);
			a->bench = true;
			break;
		}
		case OPT_HOLD: a->hold = true; break;
		case OPT_OFFSET: a->wo.offset = parse_size(optarg, "--offset"); break;
		case OPT_LENGTH: a->wo.length = parse_size(optarg, "--length"); break;
		case OPT_BS: a->wo.bs = parse_size(optarg, "--bs"); break;
		case OPT_QD:
			a->wo.qd = parse_uint(optarg, "--qd", 4096);
			if (!a->wo.qd)
				die_usage("%s must be at least 1", "--qd");
			break;
		case OPT_COUNT: a->wo.count = parse_uint(optarg, "--count", 1u << 30); break;
		case OPT_SEED:
			a->wo.seed = parse_size(optarg, "--seed");
			a->seed_given = true;
			break;
		case OPT_RW:
			if (parse_bench_rw(optarg, &a->wo.rw))
				die_usage("--rw takes read, write, randread, randwrite or randrw, not %s",
					  optarg);
			break;
		case OPT_EXPECT: a->wo.expect = parse_expect(optarg); break;
		case OPT_EXPECT_ERROR: a->wo.expect = BLKIF_RSP_ERROR; break;
		case OPT_NO_CLOSE: a->no_close = true; break;
		case OPT_HOSTILE:
			if (hostile_check(optarg))
				die_usage("unknown hostile case %s (see --list-hostile)", optarg);
			a->hostile = optarg;
			break;
		case OPT_LIST_HOSTILE:
			printf("hostile cases (--hostile CASE[:VALUE]):\n");
			hostile_list();
			exit(0);
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(2);
	}
	a->device = argv[optind];
	if (a->bo.no_protocol_node && a->bo.abi != BLK_ABI_X86_64)
		die_usage("%s: without the node the backend assumes x86_64; drop "
			  "--no-protocol-node or use --hostile bad-protocol", "--abi x86_32");
	if (a->verify && a->wo.expect != BLKIF_RSP_OKAY)
		die_usage("%s: --verify checks the data it reads and writes, so every request "
			  "must succeed; use --write-file, --read-file, --discard, --flush, "
			  "--barrier or --bench with --expect", "--expect with --verify");
	a->wo.timeout_ms = a->bo.timeout_ms;
	if (!a->seed_given)
		a->wo.seed = (uint64_t)blkdev_now_ns() ^ ((uint64_t)getpid() << 32);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
	blkfront_stop = 1;
}

/*
 * Interrupted by Ctrl-C: once the device is closed cleanly, die of the
 * signal, so that the shell that ran us stops too instead of going on to
 * its next command.
 */
static int exit_status(int status)
{
	if (stop_signal == SIGINT) {
		signal(SIGINT, SIG_DFL);
		raise(SIGINT);
	}
	return status;
}

/* Works out the frontend path and this domain's id. */
static char *frontend_path(struct args *a)
{
	unsigned long devid;
	char *end, *path;

	if (a->device[0] == '/') {
		unsigned d;

		if (!a->have_domid && sscanf(a->device, "/local/domain/%u/", &d) == 1) {
			a->bo.domid = d;
			a->have_domid = true;
		}
		return strdup(a->device);
	}
	errno = 0;
	devid = strtoul(a->device, &end, 10);
	if ((errno || *end || end == a->device) && !xvd_number(a->device, &devid))
		die_usage("DEVICE must be a number, an xvd name or a path, not %s", a->device);
	if (!a->have_domid) {
		struct xs_handle *xs = xs_open(0);

		if (!xs) {
			fprintf(stderr, "blkfront: cannot connect to xenstore: %s\n", strerror(errno));
			return NULL;
		}
		if (xbf_own_domid(xs, &a->bo.domid)) {
			fprintf(stderr, "blkfront: cannot tell which domain this is: no `domid` "
				"in xenstore and no $XENSIM_DOMID; use --domid\n");
			xs_close(xs);
			return NULL;
		}
		xs_close(xs);
	}
	if (asprintf(&path, "/local/domain/%u/device/%s/%lu", a->bo.domid, a->class, devid) < 0)
		return NULL;
	return path;
}

static void print_connected(const struct blkdev *d)
{
	const struct blkdev_info *in = &d->info;

	printf("blkfront: connected domid=%u device=%u frontend=%s backend=%s backend-id=%u "
	       "queues=%u ring-order=%u ring-size=%u abi=%s persistent=%d indirect=%u "
	       "sectors=%" PRIu64 " sector-size=%u physical-sector-size=%u info=%u "
	       "flush=%d barrier=%d discard=%d\n",
	       xbf_domid(d->xf), d->devid, xbf_frontend_path(d->xf), xbf_backend_path(d->xf),
	       d->be_id, d->nr_queues,
	       d->ring_order, d->q[0].ring.nr_ents, abi_protocol(d->opt.abi), d->persistent,
	       d->indirect_segs, in->sectors, in->sector_size, in->physical_sector_size,
	       in->info, in->flush, in->barrier, in->discard);
	fflush(stdout);
}

/* Waits for a signal or the backend closing; the latter is a detach. */
static int hold(struct blkdev *d)
{
	printf("blkfront: holding\n");
	fflush(stdout);
	while (!blkfront_stop && !d->backend_gone)
		blkdev_poll(d, 1000);
	if (d->backend_gone)
		printf("blkfront: backend closed the device (state %s)\n",
		       xbf_state_name(d->backend_state_seen));
	return 0;
}

static int run_workloads(struct blkdev *d, struct args *a)
{
	struct workload_opts wo = a->wo;
	int failed = 0;

	if (a->write_file && !blkfront_stop) {
		failed |= wl_write_file(d, &wo, a->write_file) != 0;
		if (!wo.length) {
			struct stat st;

			if (!stat(a->write_file, &st))
				wo.length = (uint64_t)st.st_size;
		}
	}
	if (a->read_file && !blkfront_stop)
		failed |= wl_read_file(d, &wo, a->read_file) != 0;
	if (a->verify && !blkfront_stop)
		failed |= wl_verify(d, &a->wo) != 0;
	if (a->have_discard && !blkfront_stop)
		failed |= wl_discard(d, &wo, a->discard_off, a->discard_len, a->secure) != 0;
	if (a->flush && !blkfront_stop)
		failed |= wl_flush(d, &wo, BLKIF_OP_FLUSH_DISKCACHE) != 0;
	if (a->barrier && !blkfront_stop)
		failed |= wl_flush(d, &wo, BLKIF_OP_WRITE_BARRIER) != 0;
	if (a->bench && !blkfront_stop)
		failed |= wl_bench(d, &wo) != 0;
	/* Expected failures must not have broken the device: one good read. */
	if (a->wo.expect != BLKIF_RSP_OKAY && !d->backend_gone) {
		unsigned ss = d->info.sector_size;
		void *buf = malloc(ss);
		struct blkio io = { .op = BLKIF_OP_READ, .len = ss, .buf = buf, .queue = -1 };
		bool ok = buf && !wl_sync_io(d, &io, wo.timeout_ms) && io.status == BLKIF_RSP_OKAY;

		printf("expect: %s as expected; sanity-read=%s\n",
		       blkio_status_name(a->wo.expect), ok ? "ok" : "failed");
		failed |= !ok;
		free(buf);
	}
	if (a->hold)
		hold(d);
	return failed;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct args a;
	struct blkdev *d;
	char *fe;
	int failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &a);
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must wake poll() so we can close cleanly. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A xenstore that went away must give errors, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	fe = frontend_path(&a);
	if (!fe)
		return 1;
	a.bo.fe_path = fe;

	if (a.hostile) {
		int rc = hostile_run(&a.bo, &a.wo, a.hostile);

		free(fe);
		return rc;
	}

	d = blkdev_open(&a.bo);
	if (!d) {
		free(fe);
		return 1;
	}
	if (blkdev_connect(d)) {
		printf("result: failed (no connection)\n");
		if (!a.no_close)
			blkdev_close(d);
		blkdev_free(d);
		free(fe);
		return exit_status(1);
	}
	print_connected(d);
	if (a.wo.expect == BLKIF_RSP_OKAY && (d->info.info & VDISK_READONLY) &&
	    (a.write_file || a.verify || a.have_discard))
		fprintf(stderr, "blkfront: note: the backend says the disk is read-only\n");

	failed = run_workloads(d, &a);
	if (a.no_close) {
		printf("result: %s (not closed)\n", failed || d->protocol_errors ? "failed" : "ok");
		fflush(stdout);
		/* Like a crashed guest: nothing is closed, unshared or unbound. */
		_exit(failed || d->protocol_errors ? 1 : 0);
	}
	if (blkdev_close(d))
		failed = 1;
	if (d->protocol_errors) {
		fprintf(stderr, "blkfront: %" PRIu64 " protocol error(s) from the backend\n",
			d->protocol_errors);
		failed = 1;
	}
	printf("result: %s\n", failed ? "failed" : "ok");
	blkdev_free(d);
	free(fe);
	return exit_status(failed ? 1 : 0);
}
