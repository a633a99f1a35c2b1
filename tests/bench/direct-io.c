/* SPDX-License-Identifier: MIT */
/*
 * direct-io: the ceiling for tests/bench/run. Does the I/O pattern of
 * `blkfront --bench` (same --rw, --bs, --qd, region and offsets) directly
 * on the backing file, with the daemon's engine (io_uring readv/writev,
 * or a pool of threads doing preadv/pwritev) and the daemon's O_DIRECT
 * choice, and prints the same `bench:` line. A measuring program, not a
 * test.
 *
 *   direct-io [OPTION]... FILE
 *     --rw read|write|randread|randwrite   (randread)
 *     --bs BYTES (4k)  --qd N (32)  --seconds S (2)
 *     --offset B  --length B   region (default: the whole file)
 *     --direct auto|on|off     auto: O_DIRECT where the daemon would use it
 *     --engine io_uring|threads  --threads N (8, the daemon's io-threads)
 *     --seed N
 *     --fill                   write the region once, sequentially, with
 *                              non-zero data (no holes), then fdatasync
 *
 * Exit status: 0 when every I/O succeeded, 1 otherwise, 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#if HAVE_LIBURING
#include <liburing.h>
#endif

enum rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE };
static const char *const rw_names[] = { "read", "write", "randread", "randwrite" };

struct opts {
	const char *file;
	enum rw rw;
	uint64_t bs, offset, length, seed;
	unsigned qd, threads;
	double seconds;
	int direct;		/* -1 auto, 0 off, 1 on */
	bool uring, fill;
};

/* What is measured; the same statistics as blkfront's bench. */
struct stats {
	uint64_t ios, bytes, lat_sum, lat_max, failed;
	uint64_t first_ns, last_ns;
	uint64_t hist[256];
};

/* The offset generator: blkfront's bench_next. */
struct gen {
	uint64_t rng, start, span, pos, bs;
	bool rnd;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t gen_next(struct gen *g)
{
	uint64_t off;

	if (g->rnd)
		return g->start + rng_next(&g->rng) % (g->span / g->bs) * g->bs;
	if (g->pos + g->bs > g->span)
		g->pos = 0;
	off = g->start + g->pos;
	g->pos += g->bs;
	return off;
}

static unsigned lat_bucket(uint64_t ns)
{
	unsigned b = ns ? 63 - (unsigned)__builtin_clzll(ns) : 0;

	return b < 2 ? b * 4 : b * 4 + (unsigned)((ns >> (b - 2)) & 3);
}

static uint64_t bucket_top(unsigned i)
{
	unsigned b = i / 4, sub = i % 4;

	return b < 2 ? (2ull << b) : (uint64_t)(4 + sub + 1) << (b - 2);
}

static void account(struct stats *s, uint64_t submit_ns, uint64_t done_ns,
		    int64_t res, uint64_t want)
{
	uint64_t lat = done_ns - submit_ns;

	if (res != (int64_t)want) {
		if (s->failed++ < 5)
			fprintf(stderr, "direct-io: I/O returned %" PRId64 " (%s), expected %" PRIu64 "\n",
				res, res < 0 ? strerror((int)-res) : "short", want);
		return;
	}
	s->ios++;
	s->bytes += want;
	s->lat_sum += lat;
	if (lat > s->lat_max)
		s->lat_max = lat;
	s->hist[lat_bucket(lat)]++;
	if (done_ns > s->last_ns)
		s->last_ns = done_ns;
}

static void *alloc_buf(uint64_t bs, uint64_t seed)
{
	void *p;

	if (posix_memalign(&p, 4096, bs))
		return NULL;
	/* Non-zero, incompressible-looking data, made once: like blkfront. */
	for (uint64_t i = 0; i + 8 <= bs; i += 8) {
		uint64_t w = rng_next(&seed);

		memcpy((char *)p + i, &w, 8);
	}
	return p;
}

/* ---- io_uring: readv/writev, one iovec, like the daemon's engine ---- */

#if HAVE_LIBURING
struct uslot {
	struct iovec iov;
	uint64_t submit_ns, off;
};

static int run_uring(int fd, const struct opts *o, struct gen *g, bool write,
		     struct stats *st, uint64_t end_ns)
{
	struct io_uring ring;
	struct uslot *slots = calloc(o->qd, sizeof(*slots));
	unsigned inflight = 0, i;
	bool stop = false;
	int r;

	if (!slots)
		return -ENOMEM;
	r = io_uring_queue_init(o->qd < 8 ? 8 : o->qd, &ring, 0);
	if (r < 0) {
		free(slots);
		return r;
	}
	for (i = 0; i < o->qd; i++) {
		slots[i].iov.iov_base = alloc_buf(o->bs, o->seed + i);
		slots[i].iov.iov_len = o->bs;
		if (!slots[i].iov.iov_base) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < o->qd; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		slots[i].off = gen_next(g);
		if (write)
			io_uring_prep_writev(sqe, fd, &slots[i].iov, 1, slots[i].off);
		else
			io_uring_prep_readv(sqe, fd, &slots[i].iov, 1, slots[i].off);
		io_uring_sqe_set_data(sqe, &slots[i]);
		slots[i].submit_ns = now_ns();
		inflight++;
	}
	while (inflight) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		uint64_t t;

		r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0 && r != -EINTR)
			goto out;
		t = now_ns();
		if (t >= end_ns)
			stop = true;
		io_uring_for_each_cqe(&ring, head, cqe) {
			struct uslot *s = io_uring_cqe_get_data(cqe);

			seen++;
			inflight--;
			account(st, s->submit_ns, t, cqe->res, o->bs);
			if (stop || st->failed)
				continue;
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			s->off = gen_next(g);
			if (write)
				io_uring_prep_writev(sqe, fd, &s->iov, 1, s->off);
			else
				io_uring_prep_readv(sqe, fd, &s->iov, 1, s->off);
			io_uring_sqe_set_data(sqe, s);
			s->submit_ns = t;
			inflight++;
		}
		io_uring_cq_advance(&ring, seen);
	}
	r = 0;
out:
	io_uring_queue_exit(&ring);
	for (i = 0; i < o->qd; i++)
		free(slots[i].iov.iov_base);
	free(slots);
	return r;
}
#endif

/* ---- threads: N workers doing preadv/pwritev, like io-threads.c ---- */

struct tshared {
	int fd;
	const struct opts *o;
	bool write;
	uint64_t end_ns;
	pthread_mutex_t lock;	/* the generator and the stats */
	struct gen *g;
	struct stats *st;
};

static void *tworker(void *arg)
{
	struct tshared *sh = arg;
	struct iovec iov = { alloc_buf(sh->o->bs, sh->o->seed), sh->o->bs };

	if (!iov.iov_base)
		return NULL;
	for (;;) {
		uint64_t off, t0, t1;
		ssize_t r;

		pthread_mutex_lock(&sh->lock);
		if (sh->st->failed || now_ns() >= sh->end_ns) {
			pthread_mutex_unlock(&sh->lock);
			break;
		}
		off = gen_next(sh->g);
		pthread_mutex_unlock(&sh->lock);
		t0 = now_ns();
		r = sh->write ? pwritev(sh->fd, &iov, 1, (off_t)off)
			      : preadv(sh->fd, &iov, 1, (off_t)off);
		t1 = now_ns();
		if (r < 0)
			r = -errno;
		pthread_mutex_lock(&sh->lock);
		account(sh->st, t0, t1, r, sh->o->bs);
		pthread_mutex_unlock(&sh->lock);
	}
	free(iov.iov_base);
	return NULL;
}

static int run_threads(int fd, const struct opts *o, struct gen *g, bool write,
		       struct stats *st, uint64_t end_ns)
{
	/* At most qd in flight, at most the pool size (what the daemon does). */
	unsigned n = o->threads < o->qd ? o->threads : o->qd, i, started = 0;
	struct tshared sh = { fd, o, write, end_ns, PTHREAD_MUTEX_INITIALIZER, g, st };
	pthread_t *t = calloc(n, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, tworker, &sh) == 0)
			started++;
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	return started == n ? 0 : -EAGAIN;
}

/* ---- fill ---------------------------------------------------------- */

static int fill(int fd, const struct opts *o)
{
	uint64_t chunk = 1 << 20, off;
	void *buf = alloc_buf(chunk, o->seed ^ 0x5eed);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (off = o->offset; off < o->offset + o->length; off += chunk) {
		uint64_t n = o->offset + o->length - off < chunk ? o->offset + o->length - off : chunk;
		ssize_t r;

		/* Different data in every chunk. */
		memcpy(buf, &off, sizeof(off));
		r = pwrite(fd, buf, n, (off_t)off);
		if (r != (ssize_t)n) {
			rc = r < 0 ? -errno : -EIO;
			break;
		}
	}
	if (!rc && fdatasync(fd) < 0)
		rc = -errno;
	free(buf);
	return rc;
}

/* ---- main ---------------------------------------------------------- */

static uint64_t parse_size(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		goto bad;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end)
		goto bad;
	return v;
bad:
	fprintf(stderr, "direct-io: bad %s: %s\n", what, s);
	exit(2);
}

/* backing.c's direct_io_fits(): 512-byte aligned buffers and offsets. */
static bool direct_io_fits(int fd)
{
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN)) {
		if (stx.stx_dio_mem_align == 0)
			return false;
		return stx.stx_dio_mem_align <= 512 && stx.stx_dio_offset_align <= 512;
	}
#endif
	(void)fd;
	return true;
}

static void usage(void)
{
	fputs("usage: direct-io [--rw read|write|randread|randwrite] [--bs B] [--qd N]\n"
	      "                 [--seconds S] [--offset B] [--length B] [--seed N]\n"
	      "                 [--direct auto|on|off] [--engine io_uring|threads]\n"
	      "                 [--threads N] [--fill] FILE\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rw", required_argument, NULL, 'r' },
		{ "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 's' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 'S' },
		{ "direct", required_argument, NULL, 'd' },
		{ "engine", required_argument, NULL, 'e' },
		{ "threads", required_argument, NULL, 't' },
		{ "fill", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = {
		.rw = RW_RANDREAD, .bs = 4096, .qd = 32, .seconds = 2, .seed = 1,
		.threads = 8, .direct = -1, .uring = HAVE_LIBURING,
	};
	struct stats st = { 0 };
	struct gen g;
	struct stat sb;
	uint64_t size, p50 = 0, p99 = 0, seen = 0, end_ns;
	bool direct = false, write;
	double secs;
	int c, fd = -1, r, flags;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			for (c = 0; c < 4 && strcmp(optarg, rw_names[c]); c++)
				;
			if (c == 4)
				usage();
			o.rw = (enum rw)c;
			break;
		case 'b': o.bs = parse_size(optarg, "--bs"); break;
		case 'q': o.qd = (unsigned)parse_size(optarg, "--qd"); break;
		case 's': o.seconds = strtod(optarg, NULL); break;
		case 'o': o.offset = parse_size(optarg, "--offset"); break;
		case 'l': o.length = parse_size(optarg, "--length"); break;
		case 'S': o.seed = parse_size(optarg, "--seed"); break;
		case 't': o.threads = (unsigned)parse_size(optarg, "--threads"); break;
		case 'f': o.fill = true; break;
		case 'd':
			if (!strcmp(optarg, "auto"))
				o.direct = -1;
			else if (!strcmp(optarg, "on"))
				o.direct = 1;
			else if (!strcmp(optarg, "off"))
				o.direct = 0;
			else
				usage();
			break;
		case 'e':
			if (!strcmp(optarg, "io_uring"))
				o.uring = true;
			else if (!strcmp(optarg, "threads"))
				o.uring = false;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	o.file = argv[optind];
#if !HAVE_LIBURING
	if (o.uring) {
		fprintf(stderr, "direct-io: built without liburing\n");
		return 2;
	}
#endif
	if (!o.bs || o.bs % 512 || !o.qd || o.qd > 4096 || !o.threads || o.seconds <= 0) {
		fprintf(stderr, "direct-io: --bs must be a positive multiple of 512, "
			"--qd 1..4096, --threads and --seconds positive\n");
		return 2;
	}

	write = o.fill || o.rw == RW_WRITE || o.rw == RW_RANDWRITE;
	flags = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	/* The daemon's choice (backing.c): O_DIRECT unless refused or unfit. */
	if (o.direct != 0) {
		fd = open(o.file, flags | O_DIRECT);
		if (fd >= 0)
			direct = true;
		else if (errno != EINVAL || o.direct == 1) {
			fprintf(stderr, "direct-io: %s: %s\n", o.file, strerror(errno));
			return 1;
		}
	}
	if (fd < 0)
		fd = open(o.file, flags);
	if (fd < 0) {
		fprintf(stderr, "direct-io: %s: %s\n", o.file, strerror(errno));
		return 1;
	}
	if (direct && o.direct == -1 && !direct_io_fits(fd)) {
		int fl = fcntl(fd, F_GETFL);

		if (fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_DIRECT) == 0)
			direct = false;
	}
	if (fstat(fd, &sb) < 0) {
		fprintf(stderr, "direct-io: %s: %s\n", o.file, strerror(errno));
		return 1;
	}
	size = (uint64_t)sb.st_size;
	if (!o.length)
		o.length = size > o.offset ? size - o.offset : 0;
	if (o.offset % 512 || o.offset + o.length > size || o.length < o.bs) {
		fprintf(stderr, "direct-io: the region %" PRIu64 "+%" PRIu64
			" does not hold one %" PRIu64 "-byte I/O within the file (%" PRIu64 " bytes)\n",
			o.offset, o.length, o.bs, size);
		return 2;
	}

	if (o.fill) {
		r = fill(fd, &o);
		if (r < 0) {
			fprintf(stderr, "direct-io: fill: %s\n", strerror(-r));
			return 1;
		}
		printf("fill: bytes=%" PRIu64 " direct=%d\n", o.length, direct);
		close(fd);
		return 0;
	}

	g = (struct gen){ .rng = o.seed, .start = o.offset, .span = o.length, .bs = o.bs,
			  .rnd = o.rw >= RW_RANDREAD };
	st.first_ns = now_ns();
	end_ns = st.first_ns + (uint64_t)(o.seconds * 1e9);
#if HAVE_LIBURING
	if (o.uring)
		r = run_uring(fd, &o, &g, write, &st, end_ns);
	else
#endif
		r = run_threads(fd, &o, &g, write, &st, end_ns);
	close(fd);
	if (r < 0) {
		fprintf(stderr, "direct-io: %s: %s\n", o.uring ? "io_uring" : "threads", strerror(-r));
		return 1;
	}
	secs = st.last_ns > st.first_ns ? (double)(st.last_ns - st.first_ns) / 1e9 : 0;
	for (unsigned i = 0; i < 256; i++) {
		seen += st.hist[i];
		if (!p50 && seen * 2 >= st.ios)
			p50 = bucket_top(i);
		if (!p99 && seen * 100 >= st.ios * 99)
			p99 = bucket_top(i);
	}
	printf("bench: rw=%s bs=%" PRIu64 " qd=%u engine=%s direct=%d seconds=%.3f ios=%" PRIu64
	       " bytes=%" PRIu64 " iops=%.1f mbps=%.2f lat_avg_us=%.1f lat_p50_us=%.1f"
	       " lat_p99_us=%.1f lat_max_us=%.1f failed=%" PRIu64 "\n",
	       rw_names[o.rw], o.bs, o.qd, o.uring ? "io_uring" : "threads", direct, secs, st.ios,
	       st.bytes, secs > 0 ? (double)st.ios / secs : 0,
	       secs > 0 ? (double)st.bytes / secs / 1e6 : 0,
	       st.ios ? (double)st.lat_sum / (double)st.ios / 1e3 : 0, (double)p50 / 1e3,
	       (double)p99 / 1e3, (double)st.lat_max / 1e3, st.failed);
	return st.failed || !st.ios ? 1 : 0;
}
