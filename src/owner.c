/* SPDX-License-Identifier: MIT */
/*
 * The daemon's identity in xenstore. <home>/xenbackd holds
 * "pid <pid> boot <boot-id> run-dir <dir>" of the daemon serving this
 * xenstore home. A second daemon started with another run-dir (so
 * another lock file) would otherwise take over every device the first
 * one serves, and the two workers on one ring would corrupt it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "owner.h"
#include "store.h"

const char *owner_boot_id(void)
{
	static char id[40];
	static int loaded;
	FILE *f;

	if (loaded)
		return id;
	loaded = 1;
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!f || !fgets(id, sizeof(id), f)) {
		id[0] = '\0';
		xbd_log(XBD_WARN, "cannot read this boot's id: devices are "
			"marked without one");
	}
	if (f)
		fclose(f);
	id[strcspn(id, "\n")] = '\0';
	return id;
}

static char *owner_path(void)
{
	char *p;

	return asprintf(&p, "%s/xenbackd", store_home()) < 0 ? NULL : p;
}

/* Whether pid is a running process called xenbackd. */
static int is_xenbackd(long pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || pid == getpid() || (kill(pid, 0) && errno != EPERM))
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, "xenbackd");
}

int owner_check_home(void)
{
	char *path = owner_path(), *v = path ? store_read(path) : NULL;
	char boot[40] = "", dir[256] = "";
	long pid = 0;
	int rc = 0;

	if (v && sscanf(v, "pid %ld boot %39s run-dir %255s", &pid, boot,
			dir) >= 2 &&
	    !strcmp(boot, owner_boot_id()) && is_xenbackd(pid)) {
		xbd_log(XBD_ERROR, "another xenbackd (pid %ld, run-dir %s) "
			"serves %s (%s): not starting a second one", pid,
			dir[0] ? dir : "?", store_home(), path);
		rc = -1;
	}
	free(v);
	free(path);
	return rc;
}

int owner_claim_home(const char *run_dir)
{
	char *path = owner_path(), *v = NULL;
	int rc = -1;

	if (path && asprintf(&v, "pid %ld boot %s run-dir %s", (long)getpid(),
			     owner_boot_id(), run_dir) >= 0)
		rc = store_write_in(store_home(), path, v);
	if (rc)
		xbd_log(XBD_WARN, "cannot write %s (%s): a second daemon with "
			"another run-dir would not be stopped", path ? path : "?",
			strerror(errno));
	free(v);
	free(path);
	return rc;
}
