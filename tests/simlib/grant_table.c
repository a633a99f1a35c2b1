/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xen/grant_table.h>

#include "grant_table.h"

#define GT_MAGIC	0x58475431u	/* "XGT1" */
#define GT_VERSION	1u
#define GT_MEM_SIZE	((off_t)GT_MAX_ENTRIES * SIM_PAGE_SIZE)

static void table_init(void *p)
{
	struct gt_table *t = p;

	t->magic = GT_MAGIC;
	t->version = GT_VERSION;
	/* a guest starts with one grant frame and grows it on demand */
	atomic_store(&t->nr_entries, GT_ENTRIES_PER_FRAME);
	atomic_store(&t->hint, GT_FIRST_REF);
}

static int open_mem(const char *griddir, uint32_t domid, bool create,
		    struct gt_dom *d)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/mem-%u", griddir, domid);
	d->mem_rw = sim_open_shared(path, O_RDWR | (create ? O_CREAT : 0));
	if (d->mem_rw < 0)
		return -1;
	if (fstat(d->mem_rw, &st) < 0)
		return -1;
	/* sparse: only pages ever written take memory */
	if (st.st_size < GT_MEM_SIZE && ftruncate(d->mem_rw, GT_MEM_SIZE) < 0)
		return -1;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->mem_ro = sim_open_shared(path, O_RDONLY);
	return d->mem_ro < 0 ? -1 : 0;
}

int gt_dom_open(const char *griddir, uint32_t domid, bool create,
		struct gt_dom *d)
{
	char path[PATH_MAX];
	int e;

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->mem_rw = d->mem_ro = -1;
	snprintf(path, sizeof(path), "%s/table-%u", griddir, domid);
	/* memory before table: a table that exists always has its memory */
	if (create && open_mem(griddir, domid, true, d) < 0)
		goto fail;
	d->t = sim_map_shared(path, sizeof(struct gt_table),
			      create ? table_init : NULL);
	if (!d->t) {
		if (errno == ENOENT)
			errno = ESRCH;
		goto fail;
	}
	if (d->t->magic != GT_MAGIC || d->t->version != GT_VERSION) {
		errno = EPROTO;
		goto fail;
	}
	if (!create && open_mem(griddir, domid, false, d) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	gt_dom_close(d);
	errno = e;
	return -1;
}

void gt_dom_close(struct gt_dom *d)
{
	if (d->t)
		munmap(d->t, sizeof(*d->t));
	if (d->mem_rw >= 0)
		close(d->mem_rw);
	if (d->mem_ro >= 0)
		close(d->mem_ro);
	d->t = NULL;
	d->mem_rw = d->mem_ro = -1;
}

int gt_dom_revalidate(const char *griddir, struct gt_dom *d)
{
	struct stat st;

	if (fstat(d->mem_rw, &st) == 0 && st.st_dev == d->dev &&
	    st.st_ino == d->ino)
		return 0;
	/* the old numbers may belong to someone else now: never close them */
	return open_mem(griddir, d->domid, false, d);
}

static uint64_t pins_of(uint64_t w)
{
	return (w >> GTW_PIN_SHIFT) & GTW_PIN_MAX;
}

int gt_pin(struct gt_dom *d, uint32_t ref, uint32_t mapper, bool write)
{
	_Atomic uint64_t *w;
	uint64_t old;

	if (ref >= atomic_load(&d->t->nr_entries))
		return GNTST_bad_gntref;
	w = &d->t->e[ref].word;
	old = atomic_load(w);
	for (;;) {
		/* Xen's answers to a bad entry, a wrong domain or a r/o entry */
		if (!(old & GTW_ACTIVE) || (old & GTW_DOMID_MASK) != mapper)
			return GNTST_general_error;
		if (write && (old & GTW_RO))
			return GNTST_general_error;
		if (pins_of(old) == GTW_PIN_MAX)
			return GNTST_general_error;
		if (atomic_compare_exchange_weak(w, &old, old + GTW_PIN_ONE))
			return GNTST_okay;
	}
}

/* Frees an entry the caller owns (BUSY, or REVOKED with no pins left). */
static void gt_free(struct gt_dom *d, uint32_t ref)
{
	static const char zero[SIM_PAGE_SIZE];
	struct gt_entry *e = &d->t->e[ref];
	off_t off = (off_t)ref * SIM_PAGE_SIZE;
	uint32_t hint;

	atomic_store(&e->word, GTW_BUSY);
	/* the next granter of this page must find it zeroed, as gntalloc does */
	if (fallocate(d->mem_rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, SIM_PAGE_SIZE) < 0)
		(void)!pwrite(d->mem_rw, zero, sizeof(zero), off);
	atomic_store(&e->owner_pid, 0);
	atomic_store(&e->word, 0);
	hint = atomic_load(&d->t->hint);
	while (ref < hint &&
	       !atomic_compare_exchange_weak(&d->t->hint, &hint, ref))
		;
}

void gt_unpin(struct gt_dom *d, uint32_t ref)
{
	uint64_t old = atomic_fetch_sub(&d->t->e[ref].word, GTW_PIN_ONE);

	if ((old & GTW_REVOKED) && pins_of(old) == 1)
		gt_free(d, ref);
}

static void unclaim_all(struct gt_table *t, const uint32_t *refs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		atomic_store(&t->e[refs[i]].owner_pid, 0);
		atomic_store(&t->e[refs[i]].word, 0);
	}
}

static bool claim(struct gt_table *t, uint32_t r)
{
	uint64_t zero = 0;

	return atomic_load_explicit(&t->e[r].word, memory_order_relaxed) == 0 &&
	       atomic_compare_exchange_strong(&t->e[r].word, &zero, GTW_BUSY);
}

/* Claims count consecutive free refs in [from, to). */
static bool claim_run(struct gt_table *t, uint32_t from, uint32_t to,
		      uint32_t count, uint32_t *refs)
{
	uint32_t len = 0;

	for (uint32_t r = from; r < to; r++) {
		if (!claim(t, r)) {
			unclaim_all(t, refs, len);
			len = 0;
			continue;
		}
		refs[len++] = r;
		if (len == count) {
			atomic_store(&t->hint, r + 1);
			return true;
		}
	}
	unclaim_all(t, refs, len);
	return false;
}

static bool claim_scattered(struct gt_table *t, uint32_t n, uint32_t count,
			    uint32_t *refs)
{
	uint32_t len = 0;

	for (uint32_t r = GT_FIRST_REF; r < n && len < count; r++)
		if (claim(t, r))
			refs[len++] = r;
	if (len == count)
		return true;
	unclaim_all(t, refs, len);
	return false;
}

int gt_alloc(struct gt_dom *d, uint32_t count, uint32_t *refs)
{
	struct gt_table *t = d->t;
	pid_t self = getpid();
	uint32_t n;

	if (count == 0 || count > GT_MAX_ENTRIES - GT_FIRST_REF) {
		errno = count ? ENOSPC : EINVAL;
		return -1;
	}
	for (;;) {
		uint32_t hint = atomic_load(&t->hint), grown;

		n = atomic_load(&t->nr_entries);
		if (hint < GT_FIRST_REF || hint >= n)
			hint = GT_FIRST_REF;
		if (claim_run(t, hint, n, count, refs) ||
		    (hint > GT_FIRST_REF &&
		     claim_run(t, GT_FIRST_REF, n, count, refs)))
			goto claimed;
		if (n >= GT_MAX_ENTRIES)
			break;
		/* grow by whole frames, as a guest adds grant frames */
		grown = n + (count + GT_ENTRIES_PER_FRAME - 1) /
			GT_ENTRIES_PER_FRAME * GT_ENTRIES_PER_FRAME;
		if (grown > GT_MAX_ENTRIES)
			grown = GT_MAX_ENTRIES;
		atomic_compare_exchange_strong(&t->nr_entries, &n, grown);
	}
	if (count > 1 && claim_scattered(t, n, count, refs))
		goto claimed;
	errno = ENOSPC;
	return -1;
claimed:
	for (uint32_t i = 0; i < count; i++)
		atomic_store(&t->e[refs[i]].owner_pid, self);
	return 0;
}

void gt_publish(struct gt_dom *d, uint32_t ref, uint32_t domid, bool writable)
{
	atomic_store(&d->t->e[ref].word, GTW_ACTIVE |
		     (writable ? 0 : GTW_RO) | (domid & GTW_DOMID_MASK));
}

void gt_unclaim(struct gt_dom *d, uint32_t ref)
{
	gt_free(d, ref);
}

void gt_revoke(struct gt_dom *d, uint32_t ref)
{
	_Atomic uint64_t *w = &d->t->e[ref].word;
	uint64_t old = atomic_load(w), new;

	for (;;) {
		if (!(old & GTW_ACTIVE))
			return;
		new = pins_of(old) ?
			(old & ~(GTW_ACTIVE | GTW_RO)) | GTW_REVOKED : GTW_BUSY;
		if (atomic_compare_exchange_weak(w, &old, new))
			break;
	}
	if (new == GTW_BUSY)
		gt_free(d, ref);
}

void gt_reap_dead_granters(struct gt_dom *d)
{
	uint32_t n = atomic_load(&d->t->nr_entries);

	for (uint32_t r = GT_FIRST_REF; r < n; r++) {
		pid_t pid = atomic_load(&d->t->e[r].owner_pid);

		if (pid > 0 && (atomic_load(&d->t->e[r].word) & GTW_ACTIVE) &&
		    kill(pid, 0) < 0 && errno == ESRCH)
			gt_revoke(d, r);
	}
}
