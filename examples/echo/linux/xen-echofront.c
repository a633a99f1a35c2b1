// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * xen-echofront: a Linux frontend for the xenbackd kit's example protocol
 * (../echoif.h), written to be read and copied.
 *
 * It drives one ring of one page for each device/echo/<devid> of the guest:
 *
 *   backend InitWait   -> grant a ring page, allocate an event channel,
 *                         write ring-ref and event-channel, Initialised
 *   backend Connected  -> read feature-reverse, Connected
 *   backend Closing or Closed -> drop the ring and the channel, Closed
 *
 * and lets a test drive it through sysfs, in /sys/bus/xen/devices/echo-N/:
 *
 *   run         write N: N rounds of PING, SUM and REVERSE (the last only
 *               with feature-reverse) over random bytes at a random offset
 *               and length, each answer checked; returns when done, or
 *               fails with ENOTCONN, EBUSY, EIO, ETIMEDOUT or EINTR
 *   stats       requests=... ok=... errors=... bad_responses=...
 *   connection  connected=... feature-reverse=... ring-ref=...
 *               event-channel=... in-flight=...
 *
 * (The xenbus core already gives every device a "state" file: the
 * frontend's xenbus state.)
 *
 * The backend is trusted with nothing: a response whose id is not in
 * flight is counted and dropped, more responses than requests mark the
 * ring broken, and the late-EOI interrupt lets Xen throttle an event
 * storm.
 */
#include <linux/module.h>
#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/wait.h>

#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>
#include <xen/events.h>
#include <xen/page.h>

#include "../echoif.h"

/* A round has PING, SUM and REVERSE in flight at once: one slot each. */
#define ECHOFRONT_SLOTS 3
#define ECHOFRONT_TIMEOUT (10 * HZ)	/* per round; TCG guests are slow */
#define ECHOFRONT_MAX_ROUNDS 1000000

/*
 * One request in flight, and the data page it works on. Each page is
 * granted to the backend once, when the ring is set up, and the grant is
 * ended when the ring goes (as blkfront's persistent grants): no grant
 * table work per request, and gnttab_end_foreign_access() frees the page
 * only once the backend no longer has it mapped.
 */
struct echofront_slot {
	struct page *page;
	grant_ref_t gref;
	bool busy;		/* on the ring, no response yet */
	bool bad_op;		/* the response had another op */
	u64 id;
	u8 op;
	s16 status;
	u32 sum;
};

struct echofront_info {
	struct xenbus_device *xbdev;

	/*
	 * Serialises ring setup and teardown against a "run": a run holds it
	 * while it waits, so teardown first wakes it (echofront_abort()).
	 */
	struct mutex lock;

	/* The ring, the slots and the counters: the irq handler takes it. */
	spinlock_t ring_lock;
	struct echo_front_ring ring;	/* ring.sring == NULL: no ring */
	grant_ref_t ring_ref;
	evtchn_port_t evtchn;
	int irq;			/* 0: none bound */
	bool connected;
	bool broken;			/* the backend broke the ring protocol */
	bool feature_reverse;
	unsigned int pending;		/* slots busy */
	u64 next_id;
	struct echofront_slot slots[ECHOFRONT_SLOTS];

	u64 requests, ok, errors, bad_responses;

	wait_queue_head_t wq;		/* a run waiting for pending == 0 */
	u8 before[ECHO_PAGE_SIZE];	/* REVERSE: the bytes as sent */
};

/* ---------------------------------------------------------- responses */

/* With ring_lock held: match one response to what is in flight. */
static void echofront_complete(struct echofront_info *info,
			       const struct echo_response *rsp)
{
	struct echofront_slot *slot = NULL;
	unsigned int i;

	for (i = 0; i < ECHOFRONT_SLOTS; i++) {
		if (info->slots[i].busy && info->slots[i].id == rsp->id) {
			slot = &info->slots[i];
			break;
		}
	}
	if (!slot) {
		/* An id never sent, or answered twice: drop it. */
		info->bad_responses++;
		dev_warn_ratelimited(&info->xbdev->dev,
				     "response with unknown id %llu\n",
				     (unsigned long long)rsp->id);
		return;
	}
	slot->bad_op = rsp->op != slot->op;
	if (slot->bad_op)
		info->bad_responses++;
	slot->status = rsp->status;
	slot->sum = rsp->sum;
	slot->busy = false;
	if (--info->pending == 0)
		wake_up(&info->wq);
}

static irqreturn_t echofront_interrupt(int irq, void *dev_id)
{
	struct echofront_info *info = dev_id;
	unsigned int eoi_flags = XEN_EOI_FLAG_SPURIOUS;
	struct echo_response rsp;
	unsigned long flags;
	RING_IDX cons, prod;
	int more;

	spin_lock_irqsave(&info->ring_lock, flags);
	if (!info->ring.sring || info->broken)
		goto out;
	do {
		prod = READ_ONCE(info->ring.sring->rsp_prod);
		virt_rmb();	/* the responses are read after rsp_prod */
		/*
		 * Stricter than RING_RESPONSE_PROD_OVERFLOW(): never more
		 * responses than requests on the ring.
		 */
		if (prod - info->ring.rsp_cons >
		    info->ring.req_prod_pvt - info->ring.rsp_cons) {
			dev_alert(&info->xbdev->dev,
				  "backend gave %u responses for %u requests\n",
				  prod - info->ring.rsp_cons,
				  info->ring.req_prod_pvt - info->ring.rsp_cons);
			info->bad_responses++;
			info->broken = true;
			info->connected = false;
			wake_up(&info->wq);
			goto out;
		}
		for (cons = info->ring.rsp_cons; cons != prod; cons++) {
			/* A copy: the backend may change the ring under us. */
			RING_COPY_RESPONSE(&info->ring, cons, &rsp);
			echofront_complete(info, &rsp);
			eoi_flags = 0;
		}
		info->ring.rsp_cons = prod;
		RING_FINAL_CHECK_FOR_RESPONSES(&info->ring, more);
	} while (more);
out:
	spin_unlock_irqrestore(&info->ring_lock, flags);
	xen_irq_lateeoi(irq, eoi_flags);
	return IRQ_HANDLED;
}

/* ---------------------------------------------------------- ring setup */

/* With info->lock held and no ring yet. */
static int echofront_setup_ring(struct echofront_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	struct echo_sring *sring;
	unsigned int i;
	int err;

	/* A zeroed page, granted read-write to dev->otherend_id. */
	err = xenbus_setup_ring(dev, GFP_KERNEL, (void **)&sring, 1,
				&info->ring_ref);
	if (err)
		return err;	/* xenbus_dev_fatal() done */
	XEN_FRONT_RING_INIT(&info->ring, sring, XEN_PAGE_SIZE);

	for (i = 0; i < ECHOFRONT_SLOTS; i++) {
		struct echofront_slot *slot = &info->slots[i];

		slot->gref = INVALID_GRANT_REF;
		slot->page = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!slot->page) {
			err = -ENOMEM;
			xenbus_dev_fatal(dev, err, "allocating a data page");
			return err;
		}
		err = gnttab_grant_foreign_access(dev->otherend_id,
						  xen_page_to_gfn(slot->page), 0);
		if (err < 0) {
			xenbus_dev_fatal(dev, err, "granting a data page");
			return err;
		}
		slot->gref = err;
	}

	err = xenbus_alloc_evtchn(dev, &info->evtchn);
	if (err)
		return err;	/* xenbus_dev_fatal() done */
	err = bind_evtchn_to_irqhandler_lateeoi(info->evtchn,
						echofront_interrupt, 0,
						"xen-echofront", info);
	if (err <= 0) {
		xenbus_dev_fatal(dev, err, "binding event channel %u",
				 info->evtchn);
		xenbus_free_evtchn(dev, info->evtchn);
		info->evtchn = 0;
		return err ? err : -EINVAL;
	}
	info->irq = err;
	return 0;
}

/*
 * With info->lock held: undo echofront_setup_ring(), whatever part of it
 * was done. The backend may still have the pages mapped: ending a grant
 * that is in use leaves the page to the grant table code, which frees it
 * once the backend lets go.
 */
static void echofront_free_ring(struct echofront_info *info)
{
	struct echo_sring *sring;
	grant_ref_t ring_ref;
	unsigned int i;

	if (info->irq) {
		/*
		 * Waits for a running handler, and closes the channel too:
		 * no xenbus_free_evtchn() after it.
		 */
		unbind_from_irqhandler(info->irq, info);
		info->irq = 0;
		info->evtchn = 0;
	}

	spin_lock_irq(&info->ring_lock);
	sring = info->ring.sring;
	ring_ref = info->ring_ref;
	memset(&info->ring, 0, sizeof(info->ring));
	info->ring_ref = INVALID_GRANT_REF;
	info->connected = false;
	info->broken = false;
	info->feature_reverse = false;
	info->pending = 0;
	for (i = 0; i < ECHOFRONT_SLOTS; i++)
		info->slots[i].busy = false;
	spin_unlock_irq(&info->ring_lock);

	for (i = 0; i < ECHOFRONT_SLOTS; i++) {
		struct echofront_slot *slot = &info->slots[i];

		if (slot->page && slot->gref != INVALID_GRANT_REF)
			gnttab_end_foreign_access(slot->gref, slot->page);
		else if (slot->page)
			__free_page(slot->page);
		slot->page = NULL;
		slot->gref = INVALID_GRANT_REF;
	}

	/* Ends the grant (deferred if still mapped), frees the page. */
	if (sring)
		xenbus_teardown_ring((void **)&sring, 1, &ring_ref);
}

/* Stop using the ring now, and wake a run waiting on it. */
static void echofront_abort(struct echofront_info *info)
{
	spin_lock_irq(&info->ring_lock);
	info->connected = false;
	spin_unlock_irq(&info->ring_lock);
	wake_up_all(&info->wq);
}

static void echofront_disconnect(struct echofront_info *info)
{
	echofront_abort(info);
	mutex_lock(&info->lock);	/* a woken run returns and lets go */
	echofront_free_ring(info);
	mutex_unlock(&info->lock);
}

/* ---------------------------------------------------------- handshake */

/*
 * Backend in InitWait: share the ring and the channel. The two nodes go
 * in one transaction, so a backend reads both or neither. The state goes
 * after the commit: xenbus_switch_state() keeps its own copy of the state
 * and runs its own transaction, it cannot join ours.
 */
static int echofront_talk_to_backend(struct echofront_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	struct xenbus_transaction xbt;
	const char *what;
	int err;

	mutex_lock(&info->lock);
	if (info->ring.sring) {
		mutex_unlock(&info->lock);
		return 0;
	}
	err = echofront_setup_ring(info);
	if (err)
		goto fail;
again:
	err = xenbus_transaction_start(&xbt);
	if (err) {
		xenbus_dev_fatal(dev, err, "starting transaction");
		goto fail;
	}
	what = "ring-ref";
	err = xenbus_printf(xbt, dev->nodename, what, "%u", info->ring_ref);
	if (err)
		goto abort;
	what = "event-channel";
	err = xenbus_printf(xbt, dev->nodename, what, "%u", info->evtchn);
	if (err)
		goto abort;
	err = xenbus_transaction_end(xbt, 0);
	if (err == -EAGAIN)
		goto again;	/* someone wrote in between: redo it all */
	if (err) {
		xenbus_dev_fatal(dev, err, "completing transaction");
		goto fail;
	}
	mutex_unlock(&info->lock);
	xenbus_switch_state(dev, XenbusStateInitialised);
	return 0;

abort:
	xenbus_transaction_end(xbt, 1);
	xenbus_dev_fatal(dev, err, "writing %s", what);
fail:
	echofront_free_ring(info);
	mutex_unlock(&info->lock);
	return err;
}

/* Backend Connected: its features are final now. */
static void echofront_connect(struct echofront_info *info)
{
	struct xenbus_device *dev = info->xbdev;
	unsigned int reverse;

	reverse = xenbus_read_unsigned(dev->otherend, "feature-reverse", 0);

	mutex_lock(&info->lock);
	if (!info->ring.sring) {
		mutex_unlock(&info->lock);
		return;
	}
	spin_lock_irq(&info->ring_lock);
	info->feature_reverse = reverse == 1;
	info->connected = true;
	spin_unlock_irq(&info->ring_lock);
	mutex_unlock(&info->lock);

	xenbus_switch_state(dev, XenbusStateConnected);
	dev_info(&dev->dev, "connected to %s, feature-reverse %u\n",
		 dev->otherend, reverse);
}

static void echofront_backend_changed(struct xenbus_device *dev,
				      enum xenbus_state backend_state)
{
	struct echofront_info *info = dev_get_drvdata(&dev->dev);

	dev_dbg(&dev->dev, "backend %s, frontend %s\n",
		xenbus_strstate(backend_state), xenbus_strstate(dev->state));

	switch (backend_state) {
	case XenbusStateInitWait:
		if (dev->state != XenbusStateInitialising)
			break;
		echofront_talk_to_backend(info);
		break;
	case XenbusStateConnected:
		/* A backend that skipped InitWait gets its ring now. */
		if (dev->state == XenbusStateInitialising &&
		    echofront_talk_to_backend(info))
			break;
		if (dev->state != XenbusStateInitialised)
			break;
		echofront_connect(info);
		break;
	case XenbusStateClosed:
		if (dev->state == XenbusStateClosed)
			break;
		fallthrough;	/* the backend went away without Closing */
	case XenbusStateClosing:
		echofront_disconnect(info);
		xenbus_frontend_closed(dev);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------- test runs */

static void echofront_fill(struct echofront_slot *slot, u16 *offset,
			   u16 *length)
{
	u8 *data = page_address(slot->page);

	*offset = get_random_u32() % ECHO_PAGE_SIZE;
	*length = 1 + get_random_u32() % (ECHO_PAGE_SIZE - *offset);
	get_random_bytes(data + *offset, *length);
}

/* With ring_lock held: put one request on the ring. */
static void echofront_queue(struct echofront_info *info,
			    struct echofront_slot *slot, u8 op,
			    u16 offset, u16 length)
{
	struct echo_request *req;

	req = RING_GET_REQUEST(&info->ring, info->ring.req_prod_pvt);
	info->ring.req_prod_pvt++;
	slot->id = info->next_id++;
	slot->op = op;
	slot->busy = true;
	slot->bad_op = false;
	req->id = slot->id;
	req->op = op;
	req->gref = op == ECHO_OP_PING ? 0 : slot->gref;
	req->offset = offset;
	req->length = length;
	info->pending++;
	info->requests++;
}

static bool echofront_round_over(struct echofront_info *info)
{
	return READ_ONCE(info->pending) == 0 || !READ_ONCE(info->connected);
}

/* One round: PING, SUM and (with feature-reverse) REVERSE at once. */
static int echofront_round(struct echofront_info *info)
{
	struct echofront_slot *ping = &info->slots[0];
	struct echofront_slot *sum = &info->slots[1];
	struct echofront_slot *rev = &info->slots[2];
	u16 sum_off, sum_len, rev_off, rev_len;
	u32 sum_want, rev_want;
	unsigned int i, ok = 0, errors = 0;
	const u8 *data;
	long left;
	int notify;

	echofront_fill(sum, &sum_off, &sum_len);
	sum_want = echo_fnv1a((u8 *)page_address(sum->page) + sum_off, sum_len);
	echofront_fill(rev, &rev_off, &rev_len);
	memcpy(info->before, (u8 *)page_address(rev->page) + rev_off, rev_len);
	rev_want = echo_fnv1a(info->before, rev_len);

	spin_lock_irq(&info->ring_lock);
	if (!info->connected) {
		spin_unlock_irq(&info->ring_lock);
		return -ENOTCONN;
	}
	if (info->pending) {
		/* Requests of an earlier run that timed out are still out. */
		spin_unlock_irq(&info->ring_lock);
		return -EBUSY;
	}
	echofront_queue(info, ping, ECHO_OP_PING, 0, 0);
	echofront_queue(info, sum, ECHO_OP_SUM, sum_off, sum_len);
	if (info->feature_reverse)
		echofront_queue(info, rev, ECHO_OP_REVERSE, rev_off, rev_len);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&info->ring, notify);
	spin_unlock_irq(&info->ring_lock);
	if (notify)
		notify_remote_via_irq(info->irq);

	left = wait_event_interruptible_timeout(info->wq,
						echofront_round_over(info),
						ECHOFRONT_TIMEOUT);
	if (left < 0)
		return -EINTR;
	if (READ_ONCE(info->broken)) {
		xenbus_dev_fatal(info->xbdev, -EIO,
				 "backend broke the ring protocol");
		return -EIO;
	}
	if (!READ_ONCE(info->connected))
		return -ENOTCONN;
	if (left == 0)
		return -ETIMEDOUT;

	/* Every slot has its response: check them. */
	ok += !ping->bad_op && ping->status == ECHO_RSP_OKAY && ping->sum == 0;
	ok += !sum->bad_op && sum->status == ECHO_RSP_OKAY &&
	      sum->sum == sum_want;
	if (info->feature_reverse) {
		bool reversed = true;

		data = (u8 *)page_address(rev->page) + rev_off;
		for (i = 0; i < rev_len; i++) {
			if (data[i] != info->before[rev_len - 1 - i]) {
				reversed = false;
				break;
			}
		}
		ok += !rev->bad_op && rev->status == ECHO_RSP_OKAY &&
		      rev->sum == rev_want && reversed;
	}
	errors = (info->feature_reverse ? 3 : 2) - ok;

	spin_lock_irq(&info->ring_lock);
	info->ok += ok;
	info->errors += errors;
	spin_unlock_irq(&info->ring_lock);
	if (errors) {
		dev_warn_ratelimited(&info->xbdev->dev,
				     "round: ping %d/%u, sum %d/%u (want %u), reverse %d/%u (want %u)\n",
				     ping->status, ping->sum, sum->status,
				     sum->sum, sum_want, rev->status, rev->sum,
				     rev_want);
		return -EIO;
	}
	return 0;
}

static int echofront_run(struct echofront_info *info, unsigned int rounds)
{
	unsigned int i;
	int err = 0;

	if (mutex_lock_interruptible(&info->lock))
		return -EINTR;
	for (i = 0; i < rounds && !err; i++)
		err = echofront_round(info);
	mutex_unlock(&info->lock);
	return err;
}

/* ---------------------------------------------------------- sysfs */

static ssize_t run_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct echofront_info *info = dev_get_drvdata(dev);
	unsigned int rounds;
	int err;

	err = kstrtouint(buf, 0, &rounds);
	if (err)
		return err;
	if (rounds > ECHOFRONT_MAX_ROUNDS)
		return -EINVAL;
	err = echofront_run(info, rounds);
	return err ? err : count;
}
static DEVICE_ATTR_WO(run);

static ssize_t stats_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct echofront_info *info = dev_get_drvdata(dev);
	u64 requests, ok, errors, bad;

	spin_lock_irq(&info->ring_lock);
	requests = info->requests;
	ok = info->ok;
	errors = info->errors;
	bad = info->bad_responses;
	spin_unlock_irq(&info->ring_lock);
	return sysfs_emit(buf, "requests=%llu ok=%llu errors=%llu bad_responses=%llu\n",
			  requests, ok, errors, bad);
}
static DEVICE_ATTR_RO(stats);

static ssize_t connection_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct echofront_info *info = dev_get_drvdata(dev);
	bool connected, reverse, ring;
	unsigned int ring_ref, evtchn, pending;

	spin_lock_irq(&info->ring_lock);
	connected = info->connected;
	reverse = info->feature_reverse;
	ring = info->ring.sring != NULL;
	ring_ref = info->ring_ref;
	evtchn = info->evtchn;
	pending = info->pending;
	spin_unlock_irq(&info->ring_lock);
	if (!ring)
		return sysfs_emit(buf, "connected=0 ring=none\n");
	return sysfs_emit(buf, "connected=%d feature-reverse=%d ring-ref=%u event-channel=%u in-flight=%u\n",
			  connected, reverse, ring_ref, evtchn, pending);
}
static DEVICE_ATTR_RO(connection);

static struct attribute *echofront_attrs[] = {
	&dev_attr_run.attr,
	&dev_attr_stats.attr,
	&dev_attr_connection.attr,
	NULL,
};
ATTRIBUTE_GROUPS(echofront);

/* ---------------------------------------------------------- driver */

static int echofront_probe(struct xenbus_device *dev,
			   const struct xenbus_device_id *id)
{
	struct echofront_info *info;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info) {
		xenbus_dev_fatal(dev, -ENOMEM, "allocating device info");
		return -ENOMEM;
	}
	info->xbdev = dev;
	mutex_init(&info->lock);
	spin_lock_init(&info->ring_lock);
	init_waitqueue_head(&info->wq);
	dev_set_drvdata(&dev->dev, info);

	/*
	 * A device left Closed by an earlier driver (rmmod) starts over; the
	 * backend's InitWait, which the xenbus core reports once its watch
	 * is set up, brings the ring.
	 */
	if (dev->state != XenbusStateInitialising)
		xenbus_switch_state(dev, XenbusStateInitialising);
	return 0;
}

/* Unbind (rmmod) or device gone: the xenbus core writes Closed after. */
static void echofront_remove(struct xenbus_device *dev)
{
	struct echofront_info *info = dev_get_drvdata(&dev->dev);

	dev_dbg(&dev->dev, "removing\n");
	xenbus_switch_state(dev, XenbusStateClosing);
	echofront_disconnect(info);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(info);
}

/*
 * After save/restore (or migration) the ring, the grants and the channel
 * belong to the old backend. Drop them: the xenbus core has set the state
 * back to Initialising and watches the new backend, whose InitWait sets up
 * a new ring (echofront_backend_changed()).
 */
static int echofront_resume(struct xenbus_device *dev)
{
	struct echofront_info *info = dev_get_drvdata(&dev->dev);

	dev_dbg(&dev->dev, "resuming\n");
	echofront_disconnect(info);
	return 0;
}

static const struct xenbus_device_id echofront_ids[] = {
	{ "echo" },
	{ "" }
};

static struct xenbus_driver echofront_driver = {
	.ids = echofront_ids,
	.probe = echofront_probe,
	.remove = echofront_remove,
	.resume = echofront_resume,
	.otherend_changed = echofront_backend_changed,
	/*
	 * xenbus_register_frontend() (so insmod) waits for the devices
	 * already there to connect: up to 30 s with this, 300 s without.
	 */
	.not_essential = true,
	.driver = {
		.dev_groups = echofront_groups,
	},
};

static int __init echofront_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	return xenbus_register_frontend(&echofront_driver);
}
module_init(echofront_init);

static void __exit echofront_exit(void)
{
	xenbus_unregister_driver(&echofront_driver);
}
module_exit(echofront_exit);

MODULE_DESCRIPTION("Xen echo frontend: the xenbackd kit's example driver");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_ALIAS("xen:echo");
