/* SPDX-License-Identifier: MIT */
/* Names the kernel serves are not ours: see kernel-backend.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel-backend.h"
#include "log.h"

/* The kernel module that claims devices under this name, or NULL. */
static const char *loaded_kernel_backend(const struct served_name *n)
{
	const char *kb = n->class->kernel_backend;
	char path[128];

	/*
	 * The kernel looks only at the class's own name: served under
	 * another one ("classes = vbd3=vbd"), the class is alone there.
	 */
	if (!kb || strcmp(n->name, n->class->name))
		return NULL;
	snprintf(path, sizeof(path), "/sys/module/%s", kb);
	return access(path, F_OK) ? NULL : kb;
}

unsigned int leave_kernel_served_names(struct config *cfg)
{
	unsigned int kept = 0, dropped = 0;

	for (unsigned int i = 0; i < cfg->nr_names; i++) {
		struct served_name *n = &cfg->names[i];
		const char *kb = loaded_kernel_backend(n);

		if (!kb) {
			cfg->names[kept++] = *n;
			continue;
		}
		xbd_log(XBD_ERROR, "not serving backend/%s: the kernel's %s is "
			"loaded and serves it. To let xenbackd serve it, keep "
			"the module out (\"install %s /bin/false\" in "
			"/etc/modprobe.d/), unload it once no guest uses it "
			"(modprobe -r %s) and restart xenbackd; or serve "
			"another name (classes = %s3=%s, xenbackd.conf(5))",
			n->name, kb, kb, kb, n->name, n->class->name);
		free(n->name);
		dropped++;
	}
	cfg->nr_names = kept;
	return dropped;
}
