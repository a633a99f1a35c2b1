/* SPDX-License-Identifier: MIT */
/*
 * Logging. Both sinks are xentoollog loggers so that the Xen libraries we
 * hand log_logger() to report through the same place as we do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

typedef struct {
	xentoollog_logger vtable;
} xentoollog_logger_syslog;

static xentoollog_logger *logger;
static xentoollog_logger_stdiostream *stdio_logger;
static enum xbd_log_level min_level = XBD_INFO;
static bool using_syslog;
static char prefix[96];

static xentoollog_level xtl_level(enum xbd_log_level level)
{
	switch (level) {
	case XBD_ERROR: return XTL_ERROR;
	case XBD_WARN: return XTL_WARN;
	case XBD_INFO: return XTL_INFO;
	default: return XTL_DEBUG;
	}
}

static void syslog_vmessage(xentoollog_logger *l, xentoollog_level level,
			    int errnoval, const char *context,
			    const char *format, va_list al)
{
	char msg[1024];
	int prio;

	/* Xen libraries log through us too: apply our threshold to them. */
	if (level < xtl_level(min_level))
		return;
	vsnprintf(msg, sizeof(msg), format, al);
	if (level >= XTL_ERROR)
		prio = LOG_ERR;
	else if (level >= XTL_WARN)
		prio = LOG_WARNING;
	else if (level >= XTL_NOTICE)
		prio = LOG_NOTICE;
	else if (level >= XTL_INFO)
		prio = LOG_INFO;
	else
		prio = LOG_DEBUG;
	if (errnoval >= 0)
		syslog(prio, "%s%s%s: %s", context ? context : "",
		       context ? ": " : "", msg, strerror(errnoval));
	else
		syslog(prio, "%s%s%s", context ? context : "",
		       context ? ": " : "", msg);
}

static void syslog_progress(xentoollog_logger *l, const char *context,
			    const char *doing_what, int percent,
			    unsigned long done, unsigned long total)
{
}

static void syslog_destroy(xentoollog_logger *l)
{
	free(l);
}

int log_init(bool to_syslog, enum xbd_log_level level)
{
	min_level = level;
	if (to_syslog) {
		xentoollog_logger_syslog buf, *l;

		openlog("xenbackd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		l = XTL_NEW_LOGGER(syslog, buf);
		if (!l)
			return -1;
		logger = (xentoollog_logger *)l;
		using_syslog = true;
	} else {
		stdio_logger = xtl_createlogger_stdiostream(stderr,
				xtl_level(level), XTL_STDIOSTREAM_SHOW_DATE |
				XTL_STDIOSTREAM_SHOW_PID |
				XTL_STDIOSTREAM_HIDE_PROGRESS);
		if (!stdio_logger)
			return -1;
		logger = (xentoollog_logger *)stdio_logger;
	}
	return 0;
}

void log_set_level(enum xbd_log_level level)
{
	min_level = level;
	if (stdio_logger)
		xtl_stdiostream_set_minlevel(stdio_logger, xtl_level(level));
}

enum xbd_log_level log_get_level(void)
{
	return min_level;
}

void log_set_prefix(const char *p)
{
	snprintf(prefix, sizeof(prefix), "%s", p);
}

void log_forget_syslog_fd(void)
{
	/*
	 * The worker closes every inherited fd; syslog must not later close
	 * an fd number that by then belongs to something else. closelog()
	 * drops the connection now; syslog() reconnects on first use.
	 */
	if (using_syslog)
		closelog();
}

xentoollog_logger *log_logger(void)
{
	return logger;
}

void log_close(void)
{
	xtl_logger_destroy(logger);
	logger = NULL;
	stdio_logger = NULL;
	if (using_syslog)
		closelog();
	using_syslog = false;
}

void xbd_vlog(enum xbd_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	int saved = errno;

	if (level > min_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (logger)
		xtl_log(logger, xtl_level(level), -1, NULL, "%s%s", prefix, msg);
	else
		fprintf(stderr, "xenbackd: %s%s\n", prefix, msg);
	errno = saved;
}

void xbd_log(enum xbd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xbd_vlog(level, fmt, ap);
	va_end(ap);
}
