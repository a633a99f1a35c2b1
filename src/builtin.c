/* SPDX-License-Identifier: MIT */
/*
 * The device classes built into this daemon. The block class joins the
 * build when its sources are in the tree (src/vbd/module.mk sets
 * XBD_WITH_VBD for this file).
 */
#include "builtin.h"
#include "log.h"

#ifdef XBD_WITH_VBD
#include "vbd/vbd.h"
#endif

int builtin_classes_register(void)
{
#ifdef XBD_WITH_VBD
	if (xbd_register_class(&vbd_class)) {
		xbd_log(XBD_ERROR, "cannot register class vbd");
		return -1;
	}
#endif
	return 0;
}
