/* SPDX-License-Identifier: MIT */
/*
 * xenbackctl: asks a running xenbackd about its devices over the control
 * socket (see control.h for the protocol); attach and detach (attach.c)
 * write xenstore directly instead.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "attach.h"
#include "buf.h"
#include "control.h"

#define DEFAULT_TIMEOUT 10.0

/* Said by the SIGALRM handler, which may only write(2) and _exit. */
static char timeout_msg[PATH_MAX + 128];
static size_t timeout_len;

static void timed_out(int sig)
{
	ssize_t n = write(2, timeout_msg, timeout_len);

	(void)n;
	_exit(1);
}

/*
 * Bounds the whole exchange (a connect blocks while the daemon's queue is
 * full): a daemon that is stuck or out of fds must not hang the caller.
 */
static void arm_timeout(double seconds, const char *sock)
{
	struct itimerval it = { 0 };
	struct sigaction sa = { .sa_handler = timed_out };

	if (seconds <= 0)
		return;
	snprintf(timeout_msg, sizeof(timeout_msg), "xenbackctl: no reply from "
		 "xenbackd at %s within %g s (stuck or overloaded? see its log)\n",
		 sock, seconds);
	timeout_len = strlen(timeout_msg);
	sigaction(SIGALRM, &sa, NULL);
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_usec = (suseconds_t)((seconds - (double)it.it_value.tv_sec) * 1e6);
	setitimer(ITIMER_REAL, &it, NULL);
}

static bool parse_timeout(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && *out >= 0 && *out <= 86400;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: xenbackctl [--socket PATH] [--json] COMMAND\n"
"Shows what a running xenbackd serves; attaches and detaches devices.\n"
"\n"
"commands:\n"
"  list        every device, its xenbus states and its worker\n"
"  show DEV    one device in detail (DEV as in list: CLASS/DOMID/DEVID)\n"
"  stats       per-ring counters: requests, bytes, errors, in flight\n"
"  metrics     every counter, per ring and operation, with latency\n"
"              histograms, in the Prometheus text format (or --json)\n");
	attach_usage(f);
	fprintf(f,
"\n"
"  -s, --socket PATH  control socket (default %s/%s)\n"
"  -j, --json         JSON output\n"
"  -t, --timeout S    give up after S seconds (default %g; 0: wait forever)\n"
"  -h, --help         show this help\n"
"  -V, --version      show the version\n", RUNDIR, CONTROL_SOCKET_NAME,
		DEFAULT_TIMEOUT);
}

/* Where the command is: the first word that is not a global option or
 * the value of one (0 if none). */
static int command_index(int argc, char **argv)
{
	static const char *const with_value[] = {
		"-s", "--socket", "-t", "--timeout", NULL
	};

	for (int i = 1; i < argc; i++) {
		bool value = false;

		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? i + 1 : 0;
		if (argv[i][0] != '-')
			return i;
		for (int k = 0; with_value[k]; k++)
			if (!strcmp(argv[i], with_value[k]))
				value = true;
		if (value)
			i++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = RUNDIR "/" CONTROL_SOCKET_NAME, *cmd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct buf req = { 0 }, reply = { 0 };
	bool json = false;
	char chunk[4096], *body;
	double timeout = DEFAULT_TIMEOUT;
	ssize_t n;
	int c, fd, write_err = 0;

	/*
	 * attach and detach have options of their own and no socket: they
	 * take the rest of the line, also after global options such as
	 * --socket (which they do not need).
	 */
	c = command_index(argc, argv);
	if (c && !strcmp(argv[c], "attach"))
		return attach_main(argc - c, argv + c);
	if (c && !strcmp(argv[c], "detach"))
		return detach_main(argc - c, argv + c);
	while ((c = getopt_long(argc, argv, "s:jt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 't':
			if (!parse_timeout(optarg, &timeout)) {
				fprintf(stderr, "xenbackctl: --timeout wants seconds "
					"(0 to 86400), not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("xenbackctl %s\n", XBD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* "--json" is also accepted after the command. */
	for (int i = optind; i < argc; i++)
		if (!strcmp(argv[i], "--json")) {
			json = true;
			memmove(&argv[i], &argv[i + 1], (argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if ((!strcmp(cmd, "list") || !strcmp(cmd, "stats") ||
	     !strcmp(cmd, "metrics")) && argc - optind == 1) {
		buf_printf(&req, "%s", cmd);
	} else if (!strcmp(cmd, "show") && argc - optind == 2 &&
		   !strpbrk(argv[optind + 1], " \t\n")) {
		buf_printf(&req, "show %s", argv[optind + 1]);
	} else {
		usage(stderr);
		return 2;
	}
	buf_printf(&req, "%s\n", json ? " json" : "");
	if (req.failed)
		return 1;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xenbackctl: socket path too long\n");
		return 1;
	}
	strcpy(sa.sun_path, sock);
	/* A daemon that refuses us closes the socket: say so, do not die. */
	signal(SIGPIPE, SIG_IGN);
	arm_timeout(timeout, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "xenbackctl: cannot reach xenbackd at %s: %s\n",
			sock, strerror(errno));
		return 1;
	}
	/* If refused, the daemon may still have said why: read on. */
	if (write(fd, req.data, req.len) != (ssize_t)req.len)
		write_err = errno ? errno : EIO;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_printf(&reply, "%.*s", (int)n, chunk);
	/* A reset after the reply: the daemon closed with our request unread. */
	if (n < 0 && errno == ECONNRESET && reply.data)
		n = 0;
	close(fd);
	buf_free(&req);
	if (n < 0 || reply.failed) {
		fprintf(stderr, "xenbackctl: reading the reply from %s: %s\n", sock,
			reply.failed ? strerror(ENOMEM) : strerror(errno));
		return 1;
	}
	if (!reply.data) {
		fprintf(stderr, "xenbackctl: xenbackd at %s closed the connection "
			"without a reply%s%s\n", sock, write_err ? ": " : "",
			write_err ? strerror(write_err) : "");
		return 1;
	}
	body = strchr(reply.data, '\n');
	if (strncmp(reply.data, "ok\n", 3) || !body) {
		fprintf(stderr, "xenbackctl: %.*s\n", (int)strcspn(reply.data, "\n"),
			reply.data);
		buf_free(&reply);
		return 1;
	}
	fputs(body + 1, stdout);
	buf_free(&reply);
	return 0;
}
