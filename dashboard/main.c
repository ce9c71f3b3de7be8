/*-------------------------------------------------------------------------
 *
 * main.c
 *	  dt_dashboard: the web server of pg_dynamic_tables.  Options, start
 *	  and stop.
 *
 *	  dt_dashboard [OPTION]... [CONNINFO]
 *
 * It serves the FlakeBench dashboard (examples/flakebench), a console for
 * the dynamic tables of the database and /metrics, reading only the
 * database it connects to (see api.c).  The main thread parses the
 * options, opens the pool's first connection, starts libmicrohttpd's
 * threads (http.c) and then waits for SIGINT or SIGTERM, which it blocks
 * before any other thread exists, so that only it receives them.
 *
 * dashboard/main.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <limits.h>
#include <signal.h>

#include <microhttpd.h>

#include "common/logging.h"
#include "dt_dashboard.h"
#include "fe_utils/option_utils.h"
#include "getopt_long.h"

static const char *progname;

static void usage(void);

static void
usage(void)
{
	printf("%s serves the FlakeBench dashboard, a console for dynamic tables and their\n"
		   "Prometheus metrics, from a database with pg_dynamic_tables.\n\n", progname);
	printf("Usage:\n  %s [OPTION]... [CONNINFO]\n\n", progname);
	printf("Options:\n");
	printf("  -d, --dbname=CONNINFO    database to read: a libpq connection string or URI\n"
		   "                           (default: the PG* environment variables)\n");
	printf("  -l, --listen=ADDRESS     address to listen on (default: 127.0.0.1)\n");
	printf("  -p, --port=PORT          port to listen on, 0 for any free one (default: 8080)\n");
	printf("  -c, --connections=N      database connections and server threads (default: 8)\n");
	printf("  -t, --statement-timeout=MS  statement_timeout of its queries (default: 30000)\n");
	printf("  -r, --root=DIR           directory holding static/ and node_modules/\n"
		   "                           (default: the directory of this program)\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n\n");
	printf("The server prints the address it serves and runs until SIGINT or SIGTERM.\n"
		   "Its actions (suspend, resume, refresh) run as the database role it connects as.\n");
}

/*
 * program_dir
 *		The directory of the running executable, for the default --root.
 */
static char *
program_dir(const char *argv0)
{
	char		path[MAXPGPATH];

	if (find_my_exec(argv0, path) < 0)
	{
		pg_log_error("could not find the directory of %s: use --root", progname);
		exit(1);
	}
	get_parent_directory(path);
	return pg_strdup(path);
}

/* The command line of dt_dashboard (parse_options). */
typedef struct Options
{
	const char *conninfo;		/* NULL: libpq's PG* variables */
	const char *listen_addr;
	const char *root;			/* the directory of static/ */
	int			port;
	int			nconns;
	int			timeout_ms;
} Options;

/*
 * parse_options
 *		The command line into *opts, with the defaults of usage().  Exits on
 *		--help, --version and anything wrong.
 */
static void
parse_options(int argc, char **argv, Options *opts)
{
	static struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"port", required_argument, NULL, 'p'},
		{"connections", required_argument, NULL, 'c'},
		{"statement-timeout", required_argument, NULL, 't'},
		{"root", required_argument, NULL, 'r'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	opts->conninfo = NULL;
	opts->listen_addr = "127.0.0.1";
	opts->root = NULL;
	opts->port = 8080;
	opts->nconns = 8;
	opts->timeout_ms = 30000;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0))
	{
		usage();
		exit(0);
	}

	while ((c = getopt_long(argc, argv, "c:d:l:p:r:t:V", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				if (!option_parse_int(optarg, "-c/--connections", 1, 64, &opts->nconns))
					exit(1);
				break;
			case 'd':
				opts->conninfo = optarg;
				break;
			case 'l':
				opts->listen_addr = optarg;
				break;
			case 'p':
				if (!option_parse_int(optarg, "-p/--port", 0, 65535, &opts->port))
					exit(1);
				break;
			case 'r':
				opts->root = optarg;
				break;
			case 't':
				if (!option_parse_int(optarg, "-t/--statement-timeout", 0, INT_MAX, &opts->timeout_ms))
					exit(1);
				break;
			case 'V':
				printf("%s (pg_dynamic_tables) %s\n", progname, DT_DASHBOARD_VERSION);
				exit(0);
			default:
				pg_log_error_hint("Try \"%s --help\" for more information.", progname);
				exit(1);
		}
	}
	if (optind < argc)
	{
		if (opts->conninfo != NULL || optind + 1 < argc)
		{
			pg_log_error("too many command-line arguments (first is \"%s\")", argv[optind]);
			pg_log_error_hint("Try \"%s --help\" for more information.", progname);
			exit(1);
		}
		opts->conninfo = argv[optind];
	}
	if (opts->root == NULL)
		opts->root = program_dir(argv[0]);
}

/*
 * main
 *		Serve the dashboard until SIGINT or SIGTERM, then stop the server
 *		and close the connections.
 */
int
main(int argc, char **argv)
{
	Options		opts;
	int			bound_port;
	int			sig;
	sigset_t	sigs;
	struct MHD_Daemon *daemon;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);
	parse_options(argc, argv, &opts);

	/* Only this thread takes the signals: block them before threads start. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!pool_init(opts.conninfo != NULL ? opts.conninfo : "", opts.nconns, opts.timeout_ms))
		exit(1);
	daemon = http_start(opts.listen_addr, opts.port, opts.nconns, opts.root, &bound_port);
	if (daemon == NULL)
	{
		pool_close();
		exit(1);
	}
	printf("%s: serving http://%s%s%s:%d/\n", progname,
		   strchr(opts.listen_addr, ':') != NULL ? "[" : "", opts.listen_addr,
		   strchr(opts.listen_addr, ':') != NULL ? "]" : "", bound_port);
	fflush(stdout);

	sigwait(&sigs, &sig);
	pool_stop();
	MHD_stop_daemon(daemon);
	pool_close();
	return 0;
}
