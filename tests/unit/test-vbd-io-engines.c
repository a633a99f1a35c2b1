/* SPDX-License-Identifier: MIT */
/*
 * The I/O engines (io_uring and the thread pool) against a temporary
 * file: vectored reads and writes, flush, discard, many operations at
 * once, more iovecs than one call takes, reads past the end, and the
 * direct-I/O fallback.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "check.h"
#include "vbd/io.h"

#define FILE_SIZE (4u << 20)

static struct ev_loop *loop;
static int pending;
static int batches;

struct op {
	struct vbd_io_op op;
	int result;
	bool done;
};

static void done(struct vbd_io_op *o, int res)
{
	struct op *op = (struct op *)o;

	CHECK(!op->done);
	op->done = true;
	op->result = res;
	pending--;
}

static void batch_done(void *ctx)
{
	batches++;
}

static void run(struct vbd_io *io)
{
	ev_tstamp start = ev_time();

	vbd_io_kick(io);
	while (pending > 0 && ev_time() - start < 30)
		ev_run(loop, EVRUN_ONCE);
	CHECK_EQ(pending, 0);
	CHECK_EQ(vbd_io_in_flight(io), 0);
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static int make_file(char *path, int extra_flags)
{
	int fd;

	strcpy(path, "/tmp/test-vbd-io.XXXXXX");
	fd = mkostemp(path, O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, FILE_SIZE), 0);
	if (extra_flags) {
		int fd2 = open(path, O_RDWR | O_CLOEXEC | extra_flags);

		if (fd2 >= 0) {
			close(fd);
			fd = fd2;
		}
	}
	unlink(path);
	return fd;
}

static struct vbd_io *open_io(enum vbd_io_engine_kind kind, int fd,
			      unsigned int depth)
{
	struct vbd_io_config cfg = {
		.engine = kind, .threads = 4, .depth = depth, .fd = fd,
		.batch_done = batch_done,
	};

	return vbd_io_create(loop, &cfg);
}

static void basic(enum vbd_io_engine_kind kind)
{
	char path[64];
	int fd = make_file(path, 0);
	struct vbd_io *io = open_io(kind, fd, 64);
	unsigned char *buf = aligned_alloc(4096, 65536);
	unsigned char *back = aligned_alloc(4096, 65536);
	struct iovec iov[3];
	struct op w, r, f, d;

	CHECK(io != NULL);
	if (!io)
		return;
	if (kind == VBD_ENGINE_IO_URING &&
	    strcmp(vbd_io_engine_name(io), "io_uring"))
		fprintf(stderr, "note: io_uring unavailable, testing %s\n",
			vbd_io_engine_name(io));
	fill(buf, 65536, 1);

	/* One vectored write of three pieces at 1 MiB + 512. */
	memset(&w, 0, sizeof(w));
	iov[0] = (struct iovec){ buf, 512 };
	iov[1] = (struct iovec){ buf + 4096, 8192 };
	iov[2] = (struct iovec){ buf + 20480, 1536 };
	w.op.kind = VBD_IO_WRITE;
	w.op.iov = iov;
	w.op.iovcnt = 3;
	w.op.offset = (1 << 20) + 512;
	w.op.done = done;
	pending++;
	batches = 0;
	vbd_io_submit(io, &w.op);
	run(io);
	CHECK(w.done);
	CHECK_EQ(w.result, 0);
	CHECK(batches >= 1);
	CHECK_EQ(pread(fd, back, 512 + 8192 + 1536, (1 << 20) + 512),
		 512 + 8192 + 1536);
	CHECK(!memcmp(back, buf, 512));
	CHECK(!memcmp(back + 512, buf + 4096, 8192));
	CHECK(!memcmp(back + 512 + 8192, buf + 20480, 1536));

	/* Read it back, vectored differently. */
	memset(back, 0, 65536);
	memset(&r, 0, sizeof(r));
	iov[0] = (struct iovec){ back, 4096 };
	iov[1] = (struct iovec){ back + 8192, 6144 };
	r.op.kind = VBD_IO_READ;
	r.op.iov = iov;
	r.op.iovcnt = 2;
	r.op.offset = (1 << 20) + 512;
	r.op.done = done;
	pending++;
	vbd_io_submit(io, &r.op);
	/* A flush in the same batch. */
	memset(&f, 0, sizeof(f));
	f.op.kind = VBD_IO_FLUSH;
	f.op.done = done;
	pending++;
	vbd_io_submit(io, &f.op);
	run(io);
	CHECK_EQ(r.result, 0);
	CHECK_EQ(f.result, 0);
	CHECK(!memcmp(back, buf, 512));
	CHECK(!memcmp(back + 512, buf + 4096, 3584));
	CHECK(!memcmp(back + 8192, buf + 4096 + 3584, 4608));
	CHECK(!memcmp(back + 8192 + 4608, buf + 20480, 1536));

	/* Discard: a hole of zeros, the file's size unchanged. */
	{
		struct stat st;

		CHECK_EQ(pwrite(fd, buf, 65536, 2 << 20), 65536);
		memset(&d, 0, sizeof(d));
		d.op.kind = VBD_IO_DISCARD;
		d.op.offset = (2 << 20) + 8192;
		d.op.length = 16384;
		d.op.done = done;
		pending++;
		vbd_io_submit(io, &d.op);
		run(io);
		CHECK_EQ(d.result, 0);
		CHECK_EQ(pread(fd, back, 65536, 2 << 20), 65536);
		CHECK(!memcmp(back, buf, 8192));
		for (size_t i = 8192; i < 8192 + 16384; i++)
			if (back[i]) {
				CHECK(!"discarded range not zero");
				break;
			}
		CHECK(!memcmp(back + 24576, buf + 24576, 65536 - 24576));
		CHECK_EQ(fstat(fd, &st), 0);
		CHECK_EQ(st.st_size, FILE_SIZE);
	}

	/* Past the end of the file: an error, not a hang. */
	memset(&r, 0, sizeof(r));
	iov[0] = (struct iovec){ back, 8192 };
	r.op.kind = VBD_IO_READ;
	r.op.iov = iov;
	r.op.iovcnt = 1;
	r.op.offset = FILE_SIZE - 4096;
	r.op.done = done;
	pending++;
	vbd_io_submit(io, &r.op);
	run(io);
	CHECK_EQ(r.result, -EIO);

	vbd_io_destroy(io);
	free(buf);
	free(back);
	close(fd);
}

/* More operations than the engine's depth, all answered once. */
static void many(enum vbd_io_engine_kind kind)
{
	enum { N = 600 };
	char path[64];
	int fd = make_file(path, 0);
	struct vbd_io *io = open_io(kind, fd, 16);
	static struct op ops[N];
	static struct iovec iov[N];
	unsigned char *buf = malloc(N * 4096);
	unsigned char *back = malloc(N * 4096);
	int i;

	if (!io)
		return;
	fill(buf, N * 4096, 2);
	for (i = 0; i < N; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		iov[i] = (struct iovec){ buf + (size_t)i * 4096, 4096 };
		ops[i].op.kind = VBD_IO_WRITE;
		ops[i].op.iov = &iov[i];
		ops[i].op.iovcnt = 1;
		ops[i].op.offset = (uint64_t)i * 4096;
		ops[i].op.done = done;
		pending++;
		vbd_io_submit(io, &ops[i].op);
	}
	run(io);
	for (i = 0; i < N; i++)
		CHECK_EQ(ops[i].result, 0);
	CHECK_EQ(pread(fd, back, N * 4096, 0), N * 4096);
	CHECK(!memcmp(back, buf, N * 4096));

	/* More iovecs than one preadv takes (IOV_MAX): continued. */
	{
		enum { NV = IOV_MAX + 300 };
		static struct iovec v[NV];
		struct op r;

		memset(back, 0, N * 4096);
		for (i = 0; i < NV; i++)
			v[i] = (struct iovec){ back + (size_t)i * 512, 512 };
		memset(&r, 0, sizeof(r));
		r.op.kind = VBD_IO_READ;
		r.op.iov = v;
		r.op.iovcnt = NV;
		r.op.offset = 0;
		r.op.done = done;
		pending++;
		vbd_io_submit(io, &r.op);
		run(io);
		CHECK_EQ(r.result, 0);
		CHECK(!memcmp(back, buf, (size_t)NV * 512));
	}
	vbd_io_destroy(io);
	free(buf);
	free(back);
	close(fd);
}

/* O_DIRECT refusing a misaligned buffer: switched to buffered, done. */
static void direct_fallback(enum vbd_io_engine_kind kind)
{
	char path[64];
	int fd = make_file(path, O_DIRECT);
	struct vbd_io *io;
	unsigned char *buf = aligned_alloc(4096, 16384);
	struct iovec iov;
	struct op w;

	if (!(fcntl(fd, F_GETFL) & O_DIRECT)) {
		fprintf(stderr, "note: no O_DIRECT on /tmp; fallback untested\n");
		close(fd);
		free(buf);
		return;
	}
	io = open_io(kind, fd, 16);
	fill(buf, 16384, 3);
	memset(&w, 0, sizeof(w));
	iov = (struct iovec){ buf + 1, 4096 };	/* misaligned */
	w.op.kind = VBD_IO_WRITE;
	w.op.iov = &iov;
	w.op.iovcnt = 1;
	w.op.offset = 4096;
	w.op.done = done;
	pending++;
	vbd_io_submit(io, &w.op);
	run(io);
	CHECK_EQ(w.result, 0);
	CHECK(!(fcntl(fd, F_GETFL) & O_DIRECT));
	{
		unsigned char back[4096];

		CHECK_EQ(pread(fd, back, 4096, 4096), 4096);
		CHECK(!memcmp(back, buf + 1, 4096));
	}
	vbd_io_destroy(io);
	free(buf);
	close(fd);
}

int main(void)
{
	enum vbd_io_engine_kind kinds[] = { VBD_ENGINE_IO_URING,
					    VBD_ENGINE_THREADS };
	unsigned int i;

	loop = ev_loop_new(EVFLAG_AUTO);
	for (i = 0; i < 2; i++) {
		basic(kinds[i]);
		many(kinds[i]);
		direct_fallback(kinds[i]);
	}
	ev_loop_destroy(loop);
	return test_exit("test-vbd-io-engines");
}
