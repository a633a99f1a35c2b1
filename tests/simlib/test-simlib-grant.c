/* SPDX-License-Identifier: MIT */
/*
 * Grants between two simulated domains: 5 grants pages, 0 maps and copies
 * them. Covers read-write and read-only grants, single and multi-page
 * mappings (each side seeing the other's writes), every refused map, grant
 * copy in both directions with per-segment status, and unmap notification
 * from both sides.
 */
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "simtest.h"

enum { GO = 1, UNSHARE_RW, CHECK_COPY, NOTIFY_MAPPED, FINISH };

struct refs {
	uint32_t rw, ro, multi[4], other, gone, port;
};

static bool all_bytes(const uint8_t *p, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void expect(int fd, uint32_t what)
{
	uint32_t got = simtest_recv_u32(fd);

	CHECK(got == what, "expected message %u, got %u", what, got);
}

/* Domain 5, the granting side. */
static int granter(int fd)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	struct refs r;
	uint8_t *rw, *ro, *multi, *other, *gone, *np, *sp;
	uint32_t nref, sref, x;

	CHECK(gs && xe);
	CHECK(xengntshr_fd(gs) >= 0);
	rw = xengntshr_share_pages(gs, 0, 1, &r.rw, 1);
	ro = xengntshr_share_pages(gs, 0, 1, &r.ro, 0);
	multi = xengntshr_share_pages(gs, 0, 4, r.multi, 1);
	other = xengntshr_share_pages(gs, 7, 1, &r.other, 1);
	gone = xengntshr_share_pages(gs, 0, 1, &r.gone, 1);
	CHECK(rw && ro && multi && other && gone);
	/* fresh pages are zeroed, refs start above the reserved ones */
	CHECK(all_bytes(rw, 0, PAGE) && all_bytes(ro, 0, PAGE) &&
	      all_bytes(multi, 0, 4 * PAGE) && all_bytes(gone, 0, PAGE));
	CHECK(r.rw >= 8 && r.ro >= 8 && r.multi[0] >= 8 && r.other >= 8);
	CHECK(r.rw != r.ro && r.ro != r.multi[0] && r.multi[3] != r.other);
	memset(rw, 'A', PAGE);
	memset(ro, 'B', PAGE);
	for (int i = 0; i < 4; i++)
		memset(multi + i * PAGE, 'C' + i, PAGE);
	memset(gone, 'G', PAGE);
	CHECK(xengntshr_unshare(gs, gone, 1) == 0);
	CHECK(xengntshr_unshare(gs, gone, 1) == -1 && errno == EINVAL);
	CHECK(xengntshr_share_pages(gs, 0, 0, &x, 1) == NULL &&
	      errno == EINVAL);
	/* a freed page comes back zeroed */
	gone = xengntshr_share_pages(gs, 0, 1, &x, 1);
	CHECK(gone && all_bytes(gone, 0, PAGE));
	CHECK(xengntshr_unshare(gs, gone, 1) == 0);

	r.port = (uint32_t)xenevtchn_bind_unbound_port(xe, 0);
	CHECK((int)r.port > 0);
	simtest_send(fd, &r, sizeof(r));

	/* domain 0 wrote through its mappings: we see it, and it sees us */
	expect(fd, GO);
	CHECK(rw[100] == 'a' && rw[99] == 'A');
	CHECK(multi[2 * PAGE + 5] == 'z');
	rw[200] = 'Q';
	simtest_send_u32(fd, GO);

	/* unshared while domain 0 still maps it */
	expect(fd, UNSHARE_RW);
	CHECK(xengntshr_unshare(gs, rw, 1) == 0);
	simtest_send_u32(fd, UNSHARE_RW);

	expect(fd, CHECK_COPY);
	CHECK(all_bytes(multi + 10, 'x', 20) && multi[9] == 'C' &&
	      multi[30] == 'C');
	CHECK(all_bytes(multi + 3 * PAGE + 8, 'E', 8) &&
	      multi[3 * PAGE + 7] == 'F' && multi[3 * PAGE + 16] == 'F');
	CHECK(all_bytes(ro, 'B', PAGE), "a read-only grant was written");
	simtest_send_u32(fd, CHECK_COPY);

	/* domain 0 maps this page with an unmap notification */
	np = xengntshr_share_pages(gs, 0, 1, &nref, 1);
	CHECK(np);
	np[10] = np[11] = 0xAA;
	simtest_send_u32(fd, nref);
	CHECK(simtest_event(xe, 10000) == (int)r.port, "no unmap notify");
	CHECK(np[10] == 0 && np[11] == 0xAA);
	CHECK(xenevtchn_unmask(xe, r.port) == 0);

	/* and this one notifies domain 0 when we unshare it */
	CHECK(xengntshr_share_page_notify(gs, 0, &x, 1, 20, 4000) == NULL &&
	      errno == EINVAL, "notify on an unbound port");
	sp = xengntshr_share_page_notify(gs, 0, &sref, 1, 20, r.port);
	CHECK(sp);
	sp[20] = sp[21] = 0xBB;
	simtest_send_u32(fd, sref);
	expect(fd, NOTIFY_MAPPED);
	CHECK(xengntshr_unshare(gs, sp, 1) == 0);

	expect(fd, FINISH);
	CHECK(xengntshr_unshare(gs, np, 1) == 0);
	CHECK(xengntshr_unshare(gs, multi + PAGE, 2) == 0);
	CHECK(xengntshr_unshare(gs, multi, 1) == 0);
	CHECK(xengntshr_unshare(gs, multi + 3 * PAGE, 1) == 0);
	CHECK(xengntshr_unshare(gs, ro, 1) == 0);
	CHECK(xengntshr_unshare(gs, other, 1) == 0);
	CHECK(simtest_guest_maps(0) == 0);
	CHECK(xengntshr_close(gs) == 0);
	CHECK(xenevtchn_close(xe) == 0);
	return 0;
}

static void seg_to_ref(xengnttab_grant_copy_segment_t *s, void *src,
		       uint32_t ref, uint16_t off, uint16_t dom, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->source.virt = src;
	s->dest.foreign.ref = ref;
	s->dest.foreign.offset = off;
	s->dest.foreign.domid = dom;
	s->len = len;
	s->flags = GNTCOPY_dest_gref;
	s->status = 99;
}

static void seg_from_ref(xengnttab_grant_copy_segment_t *s, uint32_t ref,
			 uint16_t off, uint16_t dom, void *dst, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->source.foreign.ref = ref;
	s->source.foreign.offset = off;
	s->source.foreign.domid = dom;
	s->dest.virt = dst;
	s->len = len;
	s->flags = GNTCOPY_source_gref;
	s->status = 99;
}

static void copies(xengnttab_handle *gt, const struct refs *r)
{
	xengnttab_grant_copy_segment_t s[9];
	uint8_t xs[32], in_ro[16], in_bad[16], in_other[16], in_dom[16];
	uint8_t tail[96], junk[16] = { 0 };

	memset(xs, 'x', sizeof(xs));
	memset(in_ro, 0, sizeof(in_ro));
	memset(tail, 0, sizeof(tail));
	seg_to_ref(&s[0], xs, r->multi[0], 10, 5, 20);
	seg_from_ref(&s[1], r->ro, 0, 5, in_ro, 16);
	seg_to_ref(&s[2], junk, r->ro, 0, 5, 16);	/* read-only */
	seg_from_ref(&s[3], 100000, 0, 5, in_bad, 16);	/* beyond table */
	seg_from_ref(&s[4], r->other, 0, 5, in_other, 16); /* for dom 7 */
	seg_from_ref(&s[5], r->multi[0], 0, 42, in_dom, 16); /* no domain */
	seg_from_ref(&s[6], r->multi[1], 4000, 5, tail, 96); /* to page end */
	/* foreign to foreign */
	memset(&s[7], 0, sizeof(s[7]));
	s[7].source.foreign.ref = r->multi[2];
	s[7].source.foreign.offset = 16;	/* past domain 0's 'z' */
	s[7].source.foreign.domid = 5;
	s[7].dest.foreign.ref = r->multi[3];
	s[7].dest.foreign.offset = 8;
	s[7].dest.foreign.domid = 5;
	s[7].len = 8;
	s[7].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	s[7].status = 99;
	seg_to_ref(&s[8], junk, r->gone, 0, 5, 16);	/* freed ref */

	CHECK(xengnttab_grant_copy(gt, 9, s) == 0);
	CHECK(s[0].status == GNTST_okay, "%d", s[0].status);
	CHECK(s[1].status == GNTST_okay && all_bytes(in_ro, 'B', 16));
	CHECK(s[2].status == GNTST_general_error, "%d", s[2].status);
	CHECK(s[3].status == GNTST_bad_gntref, "%d", s[3].status);
	CHECK(s[4].status == GNTST_general_error, "%d", s[4].status);
	CHECK(s[5].status == GNTST_bad_domain, "%d", s[5].status);
	CHECK(s[6].status == GNTST_okay && all_bytes(tail, 'D', 96));
	CHECK(s[7].status == GNTST_okay, "%d", s[7].status);
	CHECK(s[8].status == GNTST_general_error, "%d", s[8].status);

	/* gntdev refuses the whole call for a segment crossing its page... */
	seg_to_ref(&s[0], xs, r->multi[0], 4090, 5, 10);
	CHECK(xengnttab_grant_copy(gt, 1, s) == -1 && errno == EINVAL);
	seg_from_ref(&s[0], r->multi[0], 4095, 5, xs, 2);
	CHECK(xengnttab_grant_copy(gt, 1, s) == -1 && errno == EINVAL);
	/* ...or a local-to-local one */
	s[0].flags = 0;
	CHECK(xengnttab_grant_copy(gt, 1, s) == -1 && errno == EINVAL);
	CHECK(xengnttab_grant_copy(gt, 0, s) == 0);
}

/* Domain 0, the mapping side. */
static int mapper(int fd)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0), *gt2;
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	uint32_t doms[2] = { 5, 5 }, pair[2], bad[3], nref, sref;
	uint8_t *p, *ro, *m, *x, *n, *s;
	struct refs r;
	int p0;

	CHECK(gt && xe);
	CHECK(xengnttab_fd(gt) >= 0);
	CHECK(xengnttab_set_max_grants(gt, 128) == 0);
	simtest_recv(fd, &r, sizeof(r));

	p = xengnttab_map_grant_ref(gt, 5, r.rw, PROT_READ | PROT_WRITE);
	CHECK(p && p[0] == 'A' && p[PAGE - 1] == 'A');
	p[100] = 'a';
	ro = xengnttab_map_grant_ref(gt, 5, r.ro, PROT_READ);
	CHECK(ro && all_bytes(ro, 'B', PAGE));
	CHECK(mprotect(ro, PAGE, PROT_READ | PROT_WRITE) == -1,
	      "a read-only mapping could be made writable");

	/* every map Xen refuses fails with EINVAL and maps nothing */
	CHECK(xengnttab_map_grant_ref(gt, 5, r.ro, PROT_READ | PROT_WRITE) ==
	      NULL && errno == EINVAL, "writable map of a read-only grant");
	CHECK(xengnttab_map_grant_ref(gt, 5, r.other, PROT_READ) == NULL &&
	      errno == EINVAL, "grant for another domain");
	CHECK(xengnttab_map_grant_ref(gt, 5, 100000, PROT_READ) == NULL &&
	      errno == EINVAL, "ref beyond the table");
	CHECK(xengnttab_map_grant_ref(gt, 5, 3, PROT_READ) == NULL &&
	      errno == EINVAL, "reserved ref");
	CHECK(xengnttab_map_grant_ref(gt, 5, r.gone, PROT_READ) == NULL &&
	      errno == EINVAL, "unshared ref");
	CHECK(xengnttab_map_grant_ref(gt, 42, r.rw, PROT_READ) == NULL &&
	      errno == EINVAL, "no such domain");

	/* several grants, one contiguous range */
	m = xengnttab_map_domain_grant_refs(gt, 4, 5, r.multi,
					    PROT_READ | PROT_WRITE);
	CHECK(m);
	for (int i = 0; i < 4; i++)
		CHECK(all_bytes(m + i * PAGE, 'C' + i, PAGE), "page %d", i);
	m[2 * PAGE + 5] = 'z';
	pair[0] = r.multi[3];
	pair[1] = r.multi[0];
	x = xengnttab_map_grant_refs(gt, 2, doms, pair, PROT_READ);
	CHECK(x && x[0] == 'F' && x[PAGE] == 'C' && x[2 * PAGE - 1] == 'C');
	bad[0] = r.multi[0];
	bad[1] = r.multi[1];
	bad[2] = 99999;
	CHECK(xengnttab_map_domain_grant_refs(gt, 3, 5, bad, PROT_READ) ==
	      NULL && errno == EINVAL);
	CHECK(xengnttab_map_domain_grant_refs(gt, 0, 5, bad, PROT_READ) ==
	      NULL && errno == EINVAL);
	/* p, ro, m (one run of 4), x (two runs) */
	CHECK(simtest_guest_maps(0) == 5, "%d", simtest_guest_maps(0));

	simtest_send_u32(fd, GO);
	expect(fd, GO);
	CHECK(p[200] == 'Q', "domain 5's write is not visible");

	/* unmap wants exactly what was mapped, by this handle */
	CHECK(xengnttab_unmap(gt, m, 3) == -1 && errno == EINVAL);
	CHECK(xengnttab_unmap(gt, m + PAGE, 3) == -1 && errno == EINVAL);
	CHECK(xengnttab_unmap(gt, NULL, 1) == -1 && errno == EINVAL);
	gt2 = xengnttab_open(NULL, 0);
	CHECK(gt2);
	CHECK(xengnttab_unmap(gt2, p, 1) == -1 && errno == EINVAL);
	CHECK(xengnttab_close(gt2) == 0);

	/* a grant ended while mapped stays mapped, but cannot be mapped anew */
	simtest_send_u32(fd, UNSHARE_RW);
	expect(fd, UNSHARE_RW);
	CHECK(p[0] == 'A' && p[100] == 'a' && p[200] == 'Q');
	CHECK(xengnttab_map_grant_ref(gt, 5, r.rw, PROT_READ) == NULL &&
	      errno == EINVAL);
	CHECK(xengnttab_unmap(gt, p, 1) == 0);

	copies(gt, &r);
	simtest_send_u32(fd, CHECK_COPY);
	expect(fd, CHECK_COPY);
	CHECK(xengnttab_unmap(gt, m, 4) == 0);
	CHECK(xengnttab_unmap(gt, x, 2) == 0);
	CHECK(xengnttab_unmap(gt, ro, 1) == 0);
	CHECK(xengnttab_unmap(gt, ro, 1) == -1 && errno == EINVAL);
	CHECK(simtest_guest_maps(0) == 0);

	/* unmap notification from the mapping side */
	p0 = xenevtchn_bind_interdomain(xe, 5, r.port);
	CHECK(p0 > 0);
	CHECK(simtest_event(xe, 5000) == p0);	/* Xen's bind-time event */
	CHECK(xenevtchn_unmask(xe, p0) == 0);
	nref = simtest_recv_u32(fd);
	CHECK(xengnttab_map_grant_ref_notify(gt, 5, nref, PROT_READ, 10, -1) ==
	      NULL && errno == EINVAL, "clear-byte notify on a r/o mapping");
	CHECK(xengnttab_map_grant_ref_notify(gt, 5, nref,
					     PROT_READ | PROT_WRITE, 10, 4000) ==
	      NULL && errno == EINVAL, "notify on an unbound port");
	n = xengnttab_map_grant_ref_notify(gt, 5, nref, PROT_READ | PROT_WRITE,
					   10, (uint32_t)p0);
	CHECK(n && n[10] == 0xAA);
	CHECK(xengnttab_unmap(gt, n, 1) == 0);

	/* and from the granting side */
	sref = simtest_recv_u32(fd);
	s = xengnttab_map_grant_ref(gt, 5, sref, PROT_READ);
	CHECK(s && s[20] == 0xBB && s[21] == 0xBB);
	simtest_send_u32(fd, NOTIFY_MAPPED);
	CHECK(simtest_event(xe, 10000) == p0, "no unshare notify");
	CHECK(s[20] == 0 && s[21] == 0xBB);
	CHECK(xengnttab_unmap(gt, s, 1) == 0);

	simtest_send_u32(fd, FINISH);
	CHECK(simtest_guest_maps(0) == 0);
	CHECK(xengnttab_close(gt) == 0);
	CHECK(xenevtchn_close(xe) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	return simtest_run_pair(argv, granter, mapper, "grant");
}
