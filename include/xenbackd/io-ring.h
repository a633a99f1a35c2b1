/* SPDX-License-Identifier: MIT */
/*
 * <xen/io/ring.h> for userspace, on both sides of a ring.
 *
 * ring.h leaves its memory barriers to the includer: in userspace nothing
 * defines xen_mb/xen_rmb/xen_wmb, the macros that use them compile to
 * calls of undeclared functions, and the mistake shows only at link time
 * (or, with an old __XEN_INTERFACE_VERSION__, the default of a program
 * that does not set it, as the kernel's mb(), which ring.h defines them
 * to). Include this header instead of <xen/io/ring.h>, before or after any
 * <xen/io/...> protocol header: it includes ring.h first and then replaces
 * the barriers, and the macros use them only where they are expanded.
 *
 * The barriers: a full fence, and acquire/release fences, which order
 * loads before later loads and stores before later stores. The other side
 * of the ring may run on another CPU, so compiler barriers are not enough.
 */
#ifndef XENBACKD_IO_RING_H
#define XENBACKD_IO_RING_H

#include <stddef.h>
#include <stdint.h>

#include <xen/io/ring.h>

/*
 * After the include: ring.h itself defines these as mb() etc. when
 * __XEN_INTERFACE_VERSION__ is old (the default, 0, is), which would
 * replace definitions made before it. The macros that use them expand at
 * the point of use, so defining them here is in time.
 */
#undef xen_mb
#undef xen_rmb
#undef xen_wmb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

/* The generic header of every shared ring: indexes, then 48 bytes padding. */
#define XBD_RING_HEADER_SIZE 64
#define XBD_PAGE_SIZE 4096u

/*
 * Entries of a ring of nr_pages pages whose slots are entry_size bytes:
 * the largest power of two that fits after the header (as __RING_SIZE).
 */
static inline unsigned int xbd_ring_entries(unsigned int nr_pages,
					    size_t entry_size)
{
	size_t room = (size_t)nr_pages * XBD_PAGE_SIZE - XBD_RING_HEADER_SIZE;
	unsigned int n = 1;

	if (!entry_size || room < entry_size)
		return 0;
	while ((size_t)n * 2 * entry_size <= room)
		n *= 2;
	return n;
}

#endif
