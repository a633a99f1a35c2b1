/* SPDX-License-Identifier: MIT */
/*
 * Logging. Every sink is a xentoollog logger so that the Xen libraries we
 * hand log_logger() to report through the same place as we do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

typedef struct {
	xentoollog_logger vtable;
} xentoollog_logger_syslog;

typedef struct {
	xentoollog_logger vtable;
} xentoollog_logger_journal;

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

static int syslog_priority(xentoollog_level level)
{
	if (level >= XTL_CRITICAL)
		return LOG_CRIT;
	if (level >= XTL_ERROR)
		return LOG_ERR;
	if (level >= XTL_WARN)
		return LOG_WARNING;
	if (level >= XTL_NOTICE)
		return LOG_NOTICE;
	if (level >= XTL_INFO)
		return LOG_INFO;
	return LOG_DEBUG;
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
	prio = syslog_priority(level);
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

/*
 * stderr connected to the journal (systemd sets JOURNAL_STREAM to the
 * "device:inode" of the stream it gave us; a process whose stderr was
 * redirected since inherits the variable but not the stream).
 */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!v || sscanf(v, "%llu:%llu%n", &dev, &ino, &n) != 2 || v[n])
		return false;
	if (fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/*
 * The journal's stream: one line per message, led by the sd-daemon
 * priority prefix ("<3>" for errors...) that journald turns into the
 * entry's priority, and no timestamp of ours (journald stamps each
 * entry). One write per line, so that workers sharing the stream do not
 * interleave.
 */
static void journal_vmessage(xentoollog_logger *l, xentoollog_level level,
			     int errnoval, const char *context,
			     const char *format, va_list al)
{
	char line[1280], msg[1024];
	int n;

	if (level < xtl_level(min_level))
		return;
	vsnprintf(msg, sizeof(msg), format, al);
	n = snprintf(line, sizeof(line), "<%d>[%ld] %s%s%s%s%s\n",
		     syslog_priority(level), (long)getpid(),
		     context ? context : "", context ? ": " : "", msg,
		     errnoval >= 0 ? ": " : "",
		     errnoval >= 0 ? strerror(errnoval) : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* Nowhere to report a failed log write. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

static void journal_progress(xentoollog_logger *l, const char *context,
			     const char *doing_what, int percent,
			     unsigned long done, unsigned long total)
{
}

static void journal_destroy(xentoollog_logger *l)
{
	free(l);
}

int log_init(bool to_syslog, enum xbd_log_level level)
{
	min_level = level;
	if (!to_syslog && stderr_is_journal()) {
		xentoollog_logger_journal buf, *l;

		l = XTL_NEW_LOGGER(journal, buf);
		if (!l)
			return -1;
		logger = (xentoollog_logger *)l;
	} else if (to_syslog) {
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

/* ---- Messages a guest can cause at will --------------------------------- */

/*
 * A token bucket: LOG_GUEST_BURST lines at once, then one per
 * LOG_GUEST_INTERVAL seconds. A worker serves one device, so in a worker
 * this is the device's budget. The summary of what was dropped costs a
 * token too: however hard a guest tries, it gets no more lines than that.
 */
static struct {
	double tokens, last;
	bool started;
	unsigned long suppressed;
	enum xbd_log_level worst;	/* of the suppressed messages */
} guest;

static void refill(double now)
{
	if (!guest.started) {
		guest.started = true;
		guest.tokens = LOG_GUEST_BURST;
	} else if (now > guest.last) {
		guest.tokens += (now - guest.last) / LOG_GUEST_INTERVAL;
		if (guest.tokens > LOG_GUEST_BURST)
			guest.tokens = LOG_GUEST_BURST;
	}
	guest.last = now;
}

static void write_summary(void)
{
	xbd_log(guest.worst, "suppressed %lu messages caused by the guest "
		"(at most %d, then one per %d s, are logged)", guest.suppressed,
		LOG_GUEST_BURST, LOG_GUEST_INTERVAL);
	guest.suppressed = 0;
	guest.worst = XBD_DEBUG;
}

void xbd_vlog_guest(enum xbd_log_level level, const char *fmt, va_list ap)
{
	int saved = errno;

	if (level > min_level)
		return;
	refill(monotonic_seconds());
	if (guest.suppressed && guest.tokens >= 1) {
		guest.tokens -= 1;
		write_summary();
	}
	if (guest.tokens < 1) {
		if (!guest.suppressed || level < guest.worst)
			guest.worst = level;
		guest.suppressed++;
		errno = saved;
		return;
	}
	guest.tokens -= 1;
	xbd_vlog(level, fmt, ap);
	errno = saved;
}

void xbd_log_guest(enum xbd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xbd_vlog_guest(level, fmt, ap);
	va_end(ap);
}

double log_guest_summary_due(void)
{
	double due;

	if (!guest.suppressed)
		return -1;
	refill(monotonic_seconds());
	due = (1 - guest.tokens) * LOG_GUEST_INTERVAL;
	return due > 0 ? due : 0;
}

void log_guest_flush(bool force)
{
	if (!guest.suppressed)
		return;
	refill(monotonic_seconds());
	if (guest.tokens >= 1)
		guest.tokens -= 1;
	else if (!force)
		return;
	write_summary();
}
