/*-------------------------------------------------------------------------
 *
 * dt_loadtest.c
 *	  Load tester for pg_dynamic_tables: measures query latency under many
 *	  concurrent clients.
 *
 * dt_loadtest runs the queries of a file against a PostgreSQL server from
 * many concurrent connections, as fast as the server answers, and reports
 * throughput and latency percentiles as stable "key = value (unit)" lines.
 * Its purpose is to compare, under realistic concurrency, reads of dynamic
 * tables with the equivalent queries on the base tables, and to see how
 * refreshes affect concurrent readers.
 *
 * The execution model follows pgbench: each thread owns a share of the
 * connections and multiplexes them with the asynchronous libpq API, waiting
 * on all busy sockets with poll() and starting the next query on a
 * connection as soon as the previous result is complete.  Every connection
 * is opened before the clock starts.  A transaction is one query, chosen at
 * random (by weight) among the queries of the file, with ":name" parameters
 * replaced by values given with -P.  Latencies of successful queries are
 * kept as int64 microseconds per thread and per query and merged at the
 * end; failed queries are counted separately and are not latency samples.
 *
 * With -R, clients do not run back to back but on a schedule, as pgbench
 * --rate does: each client draws its next start time from a Poisson process
 * of rate R / clients, waits for it, and its latency counts from the
 * scheduled time, so that a server falling behind shows as latency instead
 * of as fewer transactions (no coordinated omission).
 *
 * loadtest/dt_loadtest.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#ifdef HAVE_SYS_RESOURCE_H
#include <sys/resource.h>
#endif

#include "common/logging.h"
#include "common/pg_prng.h"
#include "getopt_long.h"
#include "libpq-fe.h"
#include "portability/instr_time.h"
#include "pqexpbuffer.h"

#define DT_LOADTEST_VERSION "1.0"

#define MAX_CLIENTS 10000
#define DEFAULT_DURATION 10		/* seconds, when neither -T nor -t is given */
#define DEFAULT_WARMUP 1		/* seconds */
#define DEFAULT_SEED 0
#define QUERY_TEXT_REPORT_LEN 60	/* bytes of query text shown by -r */
#define USECS_PER_SECOND INT64CONST(1000000)

/* A -P parameter: ":name" is replaced by one of the values. */
typedef struct Param
{
	char	   *name;
	char	  **values;			/* SQL literals, inserted as they are */
	int			nvalues;
	bool		used;			/* does some query refer to it? */
} Param;

/*
 * A query with parameters is kept as a list of parts: a literal piece of
 * text followed by a parameter reference (param >= 0), the last part having
 * param = -1.
 */
typedef struct QueryPart
{
	char	   *literal;
	int			param;
} QueryPart;

typedef struct Query
{
	char	   *text;			/* as read, without the weight prefix */
	const char *source;			/* file name */
	int			lineno;
	int			weight;
	int			nparts;			/* 0 if it has no parameters */
	QueryPart  *parts;
	bool		error_logged;	/* first failure reported (error_mutex) */
} Query;

/* A growable array of latency samples, in microseconds. */
typedef struct SampleArray
{
	int64	   *values;
	int64		n;
	int64		cap;
} SampleArray;

/* Statistics of one query, in one thread (or merged). */
typedef struct QueryStats
{
	SampleArray latencies;		/* successful executions only */
	int64		errors;			/* failed executions */
} QueryStats;

typedef enum ClientState
{
	CSTATE_IDLE,				/* between two queries (transient) */
	CSTATE_SLEEP,				/* -R: waiting for its scheduled start */
	CSTATE_QUERY,				/* a query of the file is running */
	CSTATE_ROLLBACK,			/* cleaning up after a failed query */
	CSTATE_DONE,				/* finished normally */
	CSTATE_ABORTED				/* connection lost or unusable */
} ClientState;

typedef struct Client
{
	int			id;				/* 0-based, over all threads */
	PGconn	   *conn;
	ClientState state;
	pg_prng_state prng;			/* own generator: reproducible choices */
	int			query;			/* index of the running query */
	int64		start_us;		/* when it was sent (-R: scheduled) */
	int64		next_us;		/* -R: scheduled start of the next query */
	bool		counted;		/* sent inside the measurement window */
	bool		failed;			/* some result of it was an error */
	int64		ntx;			/* counted transactions, failed or not */
	PQExpBuffer sql;			/* the query with its parameters replaced */
	int		   *choice;			/* per parameter: value chosen, or -1 */
} Client;

typedef struct Thread
{
	int			id;
	pthread_t	handle;
	Client	   *clients;
	int			nclients;
	int			nactive;		/* clients neither done nor aborted */
	int			naborted;
	QueryStats *stats;			/* one per query */
	bool	   *error_seen;		/* per query: a failure was seen here */
	struct pollfd *pollfds;
	Client	  **pollclients;	/* the client of each pollfds entry */
	char	   *connect_error;	/* set if a connection failed */
	int64		end_us;			/* when its last client finished */
} Thread;

typedef enum GateState
{
	GATE_CLOSED,				/* connections are being opened */
	GATE_OPEN,					/* go */
	GATE_ABORT					/* a connection failed: give up */
} GateState;

static const char *progname;

/* options */
static int	nclients = 1;
static int	nthreads = 1;
static int	duration = 0;		/* seconds; 0 when -t is used */
static int	nxacts = 0;			/* transactions per client; 0 when -T */
static int	warmup = DEFAULT_WARMUP;
static uint64 random_seed = DEFAULT_SEED;
static bool per_query = false;
static double rate = 0;			/* -R: transactions per second; 0 = unlimited */
static const char *pghost = NULL;
static const char *pgport = NULL;
static const char *pguser = NULL;
static const char *dbname = NULL;

/* workload */
static Query *queries = NULL;
static int	nqueries = 0;
static int	maxqueries = 0;
static int64 total_weight = 0;
static Param *params = NULL;
static int	nparams = 0;

/* timing: microseconds since "epoch", set before the gate opens */
static instr_time epoch;
static int64 measure_start_us;
static int64 measure_end_us;

/* start gate: every thread has connected before the clock starts */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int	nready = 0;
static GateState gate = GATE_CLOSED;

/* serializes the report of the first failure of each query */
static pthread_mutex_t error_mutex = PTHREAD_MUTEX_INITIALIZER;

static void usage(void);
static void bad_option(void) pg_attribute_noreturn();
static bool parse_int_option(const char *arg, const char *optname,
							 int min, int max, int *result);
static bool parse_seed(const char *arg, uint64 *result);
static bool is_ident_start(char c);
static bool is_ident_char(char c);
static void add_param(const char *arg);
static int	find_param(const char *name, size_t len);
static bool read_line(FILE *fp, PQExpBuffer buf);
static void add_query_line(char *line, const char *source, int lineno);
static void read_query_file(const char *filename);
static void compile_query(Query *q);
static void check_open_files_limit(void);
static int64 now_us(void);
static void sample_append(SampleArray *a, int64 value);
static void sample_concat(SampleArray *dst, const SampleArray *src);
static int	cmp_int64(const void *a, const void *b);
static int64 percentile(const SampleArray *a, int pct);
static PGconn *open_connection(void);
static int	choose_query(Client *c);
static const char *build_query(Client *c, const Query *q);
static void report_query_error(Thread *th, Client *c, const PGresult *res);
static void client_abort(Thread *th, Client *c, const char *reason);
static void client_next(Thread *th, Client *c);
static void client_complete(Thread *th, Client *c);
static void client_read(Thread *th, Client *c);
static void run_clients(Thread *th);
static void *thread_main(void *arg);
static void print_latencies(const char *prefix, SampleArray *lat);
static void print_query_text(int qno, const char *text);


static void
usage(void)
{
	printf("%s measures query latency under many concurrent clients, in the manner of\n"
		   "pgbench, to load-test pg_dynamic_tables.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... -f FILE [DBNAME | CONNINFO]\n", progname);
	printf("\nWorkload options:\n");
	printf("  -f, --file=FILE          read queries from FILE, one a line (repeatable;\n"
		   "                           \"-\" is standard input)\n");
	printf("  -P, --param=NAME=V1,V2,...\n"
		   "                           replace each :NAME in the queries, at every\n"
		   "                           execution, by one of the values, chosen uniformly\n"
		   "                           at random; the same value for all occurrences\n"
		   "                           in one execution (repeatable)\n");
	printf("  -s, --seed=NUM           seed of the random generator (default: %d)\n",
		   DEFAULT_SEED);
	printf("\nBenchmarking options:\n");
	printf("  -c, --clients=NUM        number of concurrent clients (1..%d, default: 1)\n",
		   MAX_CLIENTS);
	printf("  -j, --threads=NUM        number of threads (1..clients, default: 1)\n");
	printf("  -T, --time=NUM           measure for NUM seconds (default: %d)\n",
		   DEFAULT_DURATION);
	printf("  -t, --transactions=NUM   measure NUM transactions per client (instead of -T)\n");
	printf("      --warmup=NUM         run NUM seconds before measuring, not counted\n"
		   "                           (default: %d)\n", DEFAULT_WARMUP);
	printf("  -r, --per-query          also report statistics per query\n");
	printf("  -R, --rate=NUM           run NUM transactions per second in all, on a\n"
		   "                           Poisson schedule (default: as fast as possible)\n");
	printf("\nConnection options:\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port number\n");
	printf("  -U, --username=USERNAME  connect as specified database user\n");
	printf("  -d, --dbname=DBNAME      database name or connection string (CONNINFO)\n");
	printf("  Unset values come from the libpq defaults (PGHOST, PGPORT, PGUSER,\n"
		   "  PGDATABASE, PGPASSWORD, ~/.pgpass, ...); no password is prompted for.\n");
	printf("\nOther options:\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n");
	printf("\nQuery file:\n"
		   "  One query a line; blank lines and lines starting with -- are ignored.\n"
		   "  A line may start with \"@W \" (W an integer weight, 0..%d, default 1).\n"
		   "  Each transaction is one query, chosen at random in proportion to the\n"
		   "  weights.  A line may hold several statements separated by semicolons;\n"
		   "  they are sent together, and fail together.  COPY is not supported.\n",
		   INT_MAX);
	printf("\nParameters:\n"
		   "  Values are inserted into the query text literally, so they must be SQL\n"
		   "  literals: -P \"mode='HYBRID','FULL'\" -P id=1,2,3.  Values are separated\n"
		   "  by commas outside single quotes.  :NAME is replaced wherever it appears\n"
		   "  (even inside string literals), except after \"::\" (a cast); a :word\n"
		   "  that names no parameter is left as it is.\n");
	printf("\nMeasurement:\n"
		   "  Transactions started during the warmup are not counted.  With -T,\n"
		   "  clients start no transaction after the time is up, and those running\n"
		   "  finish and are counted; with -t, each client runs NUM counted\n"
		   "  transactions (failed ones included) after the warmup.  duration runs\n"
		   "  from the end of the warmup until the last client finished; tps counts\n"
		   "  successful transactions.  Latency percentiles are nearest-rank, over\n"
		   "  successful transactions; failed ones are counted as errors, and the\n"
		   "  first failure of each query is reported on standard error.  Statistics\n"
		   "  with no sample print as n/a.  With -R, a query's latency runs from\n"
		   "  its scheduled start, so that waiting for a busy client counts too.\n");
	printf("\nExit status:\n"
		   "  0 if every counted query succeeded, 1 for bad options, unreadable files\n"
		   "  or a failed connection (nothing measured), 2 if the run completed but\n"
		   "  some query failed or some client lost its connection (the report is\n"
		   "  printed all the same).\n");
}

static void
bad_option(void)
{
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	exit(1);
}

/*
 * Parse an integer option, checking its range.  On error, complain and
 * return false.
 */
static bool
parse_int_option(const char *arg, const char *optname, int min, int max,
				 int *result)
{
	char	   *end;
	long long	val;

	errno = 0;
	val = strtoll(arg, &end, 10);
	while (*end != '\0' && isspace((unsigned char) *end))
		end++;
	if (end == arg || *end != '\0')
	{
		pg_log_error("invalid value \"%s\" for option %s", arg, optname);
		return false;
	}
	if (errno == ERANGE || val < min || val > max)
	{
		pg_log_error("%s must be in range %d..%d", optname, min, max);
		return false;
	}
	*result = (int) val;
	return true;
}

static bool
parse_seed(const char *arg, uint64 *result)
{
	const char *p = arg;
	char	   *end;
	uint64		val;

	while (isspace((unsigned char) *p))
		p++;
	if (!isdigit((unsigned char) *p))
	{
		pg_log_error("invalid value \"%s\" for option -s/--seed", arg);
		return false;
	}
	errno = 0;
	val = strtou64(p, &end, 10);
	while (*end != '\0' && isspace((unsigned char) *end))
		end++;
	if (*end != '\0')
	{
		pg_log_error("invalid value \"%s\" for option -s/--seed", arg);
		return false;
	}
	if (errno == ERANGE)
	{
		pg_log_error("-s/--seed must be in range 0..%llu",
					 (unsigned long long) PG_UINT64_MAX);
		return false;
	}
	*result = val;
	return true;
}

static bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/*
 * Add a -P parameter, "name=v1,v2,...".  Values are split at commas that
 * are not inside single quotes, so that 'a,b' is one value.
 */
static void
add_param(const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *p;
	const char *start;
	bool		inquote = false;
	Param	   *param;
	int			maxvalues = 4;
	int			i;

	if (eq == NULL || eq == arg)
	{
		pg_log_error("invalid parameter \"%s\": expected NAME=VALUE[,VALUE...]", arg);
		bad_option();
	}
	if (!is_ident_start(arg[0]))
	{
		pg_log_error("invalid parameter name \"%.*s\"", (int) (eq - arg), arg);
		pg_log_error_detail("A name is a letter or underscore followed by letters, digits or underscores.");
		bad_option();
	}
	for (p = arg; p < eq; p++)
	{
		if (!is_ident_char(*p))
		{
			pg_log_error("invalid parameter name \"%.*s\"", (int) (eq - arg), arg);
			pg_log_error_detail("A name is a letter or underscore followed by letters, digits or underscores.");
			bad_option();
		}
	}
	if (find_param(arg, eq - arg) >= 0)
	{
		pg_log_error("parameter \"%.*s\" specified more than once",
					 (int) (eq - arg), arg);
		bad_option();
	}

	params = pg_realloc(params, sizeof(Param) * (nparams + 1));
	param = &params[nparams++];
	param->name = pnstrdup(arg, eq - arg);
	param->values = pg_malloc(sizeof(char *) * maxvalues);
	param->nvalues = 0;
	param->used = false;

	start = eq + 1;
	for (p = start;; p++)
	{
		if (*p == '\'')
			inquote = !inquote;
		else if (*p == '\0' || (*p == ',' && !inquote))
		{
			if (*p == '\0' && inquote)
			{
				pg_log_error("unterminated quoted string in the values of parameter \"%s\"",
							 param->name);
				bad_option();
			}
			for (i = 0; start + i < p; i++)
			{
				if (!isspace((unsigned char) start[i]))
					break;
			}
			if (start + i == p)
			{
				pg_log_error("empty value for parameter \"%s\"", param->name);
				bad_option();
			}
			if (param->nvalues >= maxvalues)
			{
				maxvalues *= 2;
				param->values = pg_realloc(param->values,
										   sizeof(char *) * maxvalues);
			}
			param->values[param->nvalues++] = pnstrdup(start, p - start);
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
}

static int
find_param(const char *name, size_t len)
{
	int			i;

	for (i = 0; i < nparams; i++)
	{
		if (strlen(params[i].name) == len &&
			strncmp(params[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

/*
 * Read one line of any length into buf (without losing the newline).
 * Returns false at end of file.
 */
static bool
read_line(FILE *fp, PQExpBuffer buf)
{
	char		chunk[1024];

	resetPQExpBuffer(buf);
	while (fgets(chunk, sizeof(chunk), fp) != NULL)
	{
		appendPQExpBufferStr(buf, chunk);
		if (buf->len > 0 && buf->data[buf->len - 1] == '\n')
			break;
	}
	if (PQExpBufferBroken(buf))
		pg_fatal("out of memory");
	return buf->len > 0;
}

static void
add_query_line(char *line, const char *source, int lineno)
{
	char	   *p = line;
	char	   *end;
	int			weight = 1;
	Query	   *q;

	while (isspace((unsigned char) *p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	*end = '\0';
	if (*p == '\0' || strncmp(p, "--", 2) == 0)
		return;

	if (*p == '@')
	{
		char	   *wend;
		long		w;

		if (!isdigit((unsigned char) p[1]))
			pg_fatal("%s:%d: invalid weight prefix: expected \"@WEIGHT QUERY\"",
					 source, lineno);
		errno = 0;
		w = strtol(p + 1, &wend, 10);
		if (errno == ERANGE || w > INT_MAX)
			pg_fatal("%s:%d: weight must be in range 0..%d",
					 source, lineno, INT_MAX);
		if (*wend == '\0')
			pg_fatal("%s:%d: no query after the weight", source, lineno);
		if (!isspace((unsigned char) *wend))
			pg_fatal("%s:%d: invalid weight prefix: expected \"@WEIGHT QUERY\"",
					 source, lineno);
		p = wend;
		while (isspace((unsigned char) *p))
			p++;
		weight = (int) w;
	}

	if (nqueries >= maxqueries)
	{
		maxqueries = maxqueries ? maxqueries * 2 : 16;
		queries = pg_realloc(queries, sizeof(Query) * maxqueries);
	}
	q = &queries[nqueries++];
	memset(q, 0, sizeof(Query));
	q->text = pg_strdup(p);
	q->source = source;
	q->lineno = lineno;
	q->weight = weight;
	total_weight += weight;
}

static void
read_query_file(const char *filename)
{
	FILE	   *fp;
	PQExpBufferData line;
	int			lineno = 0;
	bool		is_stdin = strcmp(filename, "-") == 0;

	if (is_stdin)
		fp = stdin;
	else if ((fp = fopen(filename, "r")) == NULL)
		pg_fatal("could not open file \"%s\": %m", filename);

	initPQExpBuffer(&line);
	while (read_line(fp, &line))
		add_query_line(line.data, is_stdin ? "stdin" : filename, ++lineno);
	if (ferror(fp))
		pg_fatal("could not read file \"%s\": %m", filename);
	if (!is_stdin)
		fclose(fp);
	termPQExpBuffer(&line);
}

/*
 * Split a query at its parameter references.  ":name" is a reference when
 * name is a -P parameter; "::" (a cast) is never the start of one.
 */
static void
compile_query(Query *q)
{
	const char *p = q->text;
	const char *lit = p;
	int			maxparts = 0;

	while (*p != '\0')
	{
		if (p[0] == ':' && p[1] == ':')
		{
			while (*p == ':')
				p++;
			continue;
		}
		if (p[0] == ':' && is_ident_start(p[1]))
		{
			const char *name = p + 1;
			const char *e = name;
			int			idx;

			while (is_ident_char(*e))
				e++;
			idx = find_param(name, e - name);
			if (idx >= 0)
			{
				if (q->nparts + 2 > maxparts)
				{
					maxparts = maxparts ? maxparts * 2 : 4;
					q->parts = pg_realloc(q->parts, sizeof(QueryPart) * maxparts);
				}
				q->parts[q->nparts].literal = pnstrdup(lit, p - lit);
				q->parts[q->nparts].param = idx;
				q->nparts++;
				params[idx].used = true;
				lit = e;
			}
			p = e;
			continue;
		}
		p++;
	}
	if (q->nparts > 0)
	{
		/* room was kept for this one */
		q->parts[q->nparts].literal = pg_strdup(lit);
		q->parts[q->nparts].param = -1;
		q->nparts++;
	}
}

/*
 * Each connection needs a file descriptor: raise the soft limit if needed
 * and possible, as pgbench does.
 */
static void
check_open_files_limit(void)
{
#ifdef HAVE_GETRLIMIT
	struct rlimit rlim;
	rlim_t		needed = (rlim_t) nclients + 16;

	if (getrlimit(RLIMIT_NOFILE, &rlim) != 0)
		pg_fatal("getrlimit failed: %m");
	if (rlim.rlim_cur != RLIM_INFINITY && rlim.rlim_cur < needed)
	{
		if (rlim.rlim_max == RLIM_INFINITY || rlim.rlim_max >= needed)
		{
			rlim.rlim_cur = needed;
			if (setrlimit(RLIMIT_NOFILE, &rlim) == 0)
				return;
		}
		pg_log_error("need at least %llu open files, but the system limit is %llu",
					 (unsigned long long) needed,
					 (unsigned long long) rlim.rlim_cur);
		pg_log_error_hint("Reduce the number of clients, or use limit/ulimit to increase the system limit.");
		exit(1);
	}
#endif
}

/* Microseconds since the program started, on a monotonic clock. */
static int64
now_us(void)
{
	instr_time	t;

	INSTR_TIME_SET_CURRENT(t);
	INSTR_TIME_SUBTRACT(t, epoch);
	return (int64) INSTR_TIME_GET_MICROSEC(t);
}

static void
sample_append(SampleArray *a, int64 value)
{
	if (a->n >= a->cap)
	{
		a->cap = a->cap ? a->cap * 2 : 1024;
		a->values = pg_realloc(a->values, sizeof(int64) * a->cap);
	}
	a->values[a->n++] = value;
}

static void
sample_concat(SampleArray *dst, const SampleArray *src)
{
	if (src->n == 0)
		return;
	if (dst->n + src->n > dst->cap)
	{
		dst->cap = dst->n + src->n;
		dst->values = pg_realloc(dst->values, sizeof(int64) * dst->cap);
	}
	memcpy(dst->values + dst->n, src->values, sizeof(int64) * src->n);
	dst->n += src->n;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted, non-empty samples. */
static int64
percentile(const SampleArray *a, int pct)
{
	int64		rank = (pct * a->n + 99) / 100;

	if (rank < 1)
		rank = 1;
	if (rank > a->n)
		rank = a->n;
	return a->values[rank - 1];
}

/*
 * Open one connection.  The positional argument or -d may be a connection
 * string (expand_dbname); -h, -p and -U, coming after it, override it.
 */
static PGconn *
open_connection(void)
{
	const char *keywords[6];
	const char *values[6];

	keywords[0] = "dbname";
	values[0] = dbname;
	keywords[1] = "host";
	values[1] = pghost;
	keywords[2] = "port";
	values[2] = pgport;
	keywords[3] = "user";
	values[3] = pguser;
	keywords[4] = "fallback_application_name";
	values[4] = progname;
	keywords[5] = NULL;
	values[5] = NULL;

	return PQconnectdbParams(keywords, values, 1);
}

static int
choose_query(Client *c)
{
	int64		r;
	int			i;

	if (nqueries == 1)
		return 0;
	r = (int64) pg_prng_uint64_range(&c->prng, 0, (uint64) (total_weight - 1));
	for (i = 0; i < nqueries; i++)
	{
		r -= queries[i].weight;
		if (r < 0)
			return i;
	}
	return nqueries - 1;		/* not reached */
}

static const char *
build_query(Client *c, const Query *q)
{
	int			i;

	if (q->nparts == 0)
		return q->text;

	/* one value per parameter and execution, chosen at its first use */
	for (i = 0; i < nparams; i++)
		c->choice[i] = -1;
	resetPQExpBuffer(c->sql);
	for (i = 0; i < q->nparts; i++)
	{
		const QueryPart *part = &q->parts[i];

		appendPQExpBufferStr(c->sql, part->literal);
		if (part->param >= 0)
		{
			const Param *param = &params[part->param];

			if (c->choice[part->param] < 0)
				c->choice[part->param] = (int)
					pg_prng_uint64_range(&c->prng, 0, param->nvalues - 1);
			appendPQExpBufferStr(c->sql, param->values[c->choice[part->param]]);
		}
	}
	if (PQExpBufferBroken(c->sql))
		pg_fatal("out of memory");
	return c->sql->data;
}

/*
 * Report the first failure of each query; later ones are only counted.
 * The per-thread flag keeps the mutex off the path of repeated failures.
 */
static void
report_query_error(Thread *th, Client *c, const PGresult *res)
{
	Query	   *q = &queries[c->query];
	const char *msg;

	if (th->error_seen[c->query])
		return;
	th->error_seen[c->query] = true;

	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL)
		msg = PQresultErrorMessage(res);

	pthread_mutex_lock(&error_mutex);
	if (!q->error_logged)
	{
		q->error_logged = true;
		pg_log_error("query %d (%s:%d) failed: %s",
					 c->query + 1, q->source, q->lineno, msg);
		if (q->nparts > 0)
			pg_log_error_detail("Query: %s", c->sql->data);
		pg_log_error_detail("Further failures of this query are counted, not reported.");
	}
	pthread_mutex_unlock(&error_mutex);
}

/*
 * Give up on a client whose connection is lost or unusable.  A counted
 * query still running is a failed one.
 */
static void
client_abort(Thread *th, Client *c, const char *reason)
{
	if (c->state == CSTATE_QUERY && c->counted)
	{
		c->ntx++;
		th->stats[c->query].errors++;
	}
	pg_log_error("client %d aborted: %s", c->id + 1, reason);
	PQfinish(c->conn);
	c->conn = NULL;
	c->state = CSTATE_ABORTED;
	th->naborted++;
	th->nactive--;
}

/* Start the client's next transaction, or finish it. */
/* client_send: start the client's next query now. */
static void
client_send(Thread *th, Client *c, int64 start_us)
{
	const char *sql;

	c->query = choose_query(c);
	sql = build_query(c, &queries[c->query]);
	c->counted = start_us >= measure_start_us;
	c->failed = false;
	c->state = CSTATE_QUERY;
	c->start_us = start_us;
	if (!PQsendQuery(c->conn, sql))
		client_abort(th, c, PQerrorMessage(c->conn));
}

/*
 * client_next
 *		Start the client's next query, or with -R schedule it (the start of a
 *		query already late is its scheduled time), or finish the client.
 */
static void
client_next(Thread *th, Client *c)
{
	int64		now = now_us();

	if (rate > 0)
	{
		/* exponential gap of mean clients / rate, as pgbench --rate */
		double		u = pg_prng_double(&c->prng);

		if (c->next_us == 0)
			c->next_us = now;
		c->next_us += (int64) (-log(1.0 - u) * nclients / rate * USECS_PER_SECOND);
	}
	if (nxacts > 0 ? c->ntx >= nxacts : Max(now, c->next_us) >= measure_end_us)
	{
		c->state = CSTATE_DONE;
		th->nactive--;
		return;
	}
	if (rate > 0 && c->next_us > now)
	{
		c->state = CSTATE_SLEEP;
		return;
	}
	client_send(th, c, rate > 0 ? c->next_us : now_us());
}

/* All results of the client's query are in. */
static void
client_complete(Thread *th, Client *c)
{
	int64		end = now_us();

	if (c->state == CSTATE_QUERY)
	{
		if (c->counted)
		{
			QueryStats *qs = &th->stats[c->query];

			c->ntx++;
			if (c->failed)
				qs->errors++;
			else
				sample_append(&qs->latencies, end - c->start_us);
		}
		c->state = CSTATE_IDLE;

		if (PQstatus(c->conn) == CONNECTION_BAD)
		{
			client_abort(th, c, PQerrorMessage(c->conn));
			return;
		}

		/*
		 * A failed query may leave a transaction block open in the failed
		 * state (a line "BEGIN; ...; COMMIT"): roll it back, uncounted, so
		 * that the next queries do not fail too.
		 */
		if (c->failed && PQtransactionStatus(c->conn) == PQTRANS_INERROR)
		{
			c->state = CSTATE_ROLLBACK;
			if (!PQsendQuery(c->conn, "ROLLBACK"))
				client_abort(th, c, PQerrorMessage(c->conn));
			return;
		}
	}
	else if (PQstatus(c->conn) == CONNECTION_BAD)
	{
		client_abort(th, c, PQerrorMessage(c->conn));
		return;
	}

	c->state = CSTATE_IDLE;
	client_next(th, c);
}

/* The client's socket is readable: collect what results are complete. */
static void
client_read(Thread *th, Client *c)
{
	if (!PQconsumeInput(c->conn))
	{
		client_abort(th, c, PQerrorMessage(c->conn));
		return;
	}

	while (!PQisBusy(c->conn))
	{
		PGresult   *res = PQgetResult(c->conn);

		if (res == NULL)
		{
			client_complete(th, c);
			return;
		}

		switch (PQresultStatus(res))
		{
			case PGRES_COMMAND_OK:
			case PGRES_TUPLES_OK:
			case PGRES_EMPTY_QUERY:
				break;
			case PGRES_COPY_IN:
			case PGRES_COPY_OUT:
			case PGRES_COPY_BOTH:
				PQclear(res);
				client_abort(th, c, "COPY is not supported");
				return;
			default:
				if (c->state == CSTATE_QUERY && !c->failed)
				{
					c->failed = true;
					report_query_error(th, c, res);
				}
				break;
		}
		PQclear(res);
	}
}

/* The thread's event loop, from the start gate to its last client. */
static void
run_clients(Thread *th)
{
	int			i;

	th->nactive = th->nclients;
	for (i = 0; i < th->nclients; i++)
		client_next(th, &th->clients[i]);

	while (th->nactive > 0)
	{
		int			npoll = 0;
		int			rc;
		int64		wake_us = -1;	/* earliest scheduled start, -R */
		int			timeout_ms = -1;

		for (i = 0; i < th->nclients; i++)
		{
			Client	   *c = &th->clients[i];

			if (c->state == CSTATE_SLEEP && c->next_us <= now_us())
				client_send(th, c, c->next_us);
			if (c->state == CSTATE_SLEEP && (wake_us < 0 || c->next_us < wake_us))
				wake_us = c->next_us;
			if (c->state == CSTATE_QUERY || c->state == CSTATE_ROLLBACK)
			{
				th->pollfds[npoll].fd = PQsocket(c->conn);
				th->pollfds[npoll].events = POLLIN;
				th->pollfds[npoll].revents = 0;
				th->pollclients[npoll] = c;
				npoll++;
			}
		}
		if (wake_us >= 0)
			timeout_ms = (int) Max((wake_us - now_us() + 999) / 1000, 0);
		else if (npoll == 0)
			break;				/* cannot happen: active clients are busy */

		rc = poll(th->pollfds, npoll, timeout_ms);
		if (rc < 0)
		{
			if (errno == EINTR)
				continue;
			pg_fatal("poll() failed: %m");
		}

		for (i = 0; i < npoll; i++)
		{
			if (th->pollfds[i].revents != 0)
				client_read(th, th->pollclients[i]);
		}
	}
	th->end_us = now_us();
}

static void *
thread_main(void *arg)
{
	Thread	   *th = (Thread *) arg;
	bool		go;
	int			i;

	for (i = 0; i < th->nclients; i++)
	{
		Client	   *c = &th->clients[i];

		c->conn = open_connection();
		if (c->conn == NULL)
		{
			th->connect_error = psprintf("could not connect client %d: out of memory",
										 c->id + 1);
			break;
		}
		if (PQstatus(c->conn) != CONNECTION_OK)
		{
			th->connect_error = psprintf("could not connect client %d: %s",
										 c->id + 1, PQerrorMessage(c->conn));
			break;
		}
	}

	pthread_mutex_lock(&gate_mutex);
	nready++;
	pthread_cond_broadcast(&gate_cond);
	while (gate == GATE_CLOSED)
		pthread_cond_wait(&gate_cond, &gate_mutex);
	go = (gate == GATE_OPEN);
	pthread_mutex_unlock(&gate_mutex);

	if (go)
		run_clients(th);

	for (i = 0; i < th->nclients; i++)
	{
		if (th->clients[i].conn != NULL)
		{
			PQfinish(th->clients[i].conn);
			th->clients[i].conn = NULL;
		}
	}
	return NULL;
}

static void
print_latencies(const char *prefix, SampleArray *lat)
{
	int64		sum = 0;
	int64		i;

	if (lat->n == 0)
	{
		printf("%slatency_min = n/a (ms)\n", prefix);
		printf("%slatency_p50 = n/a (ms)\n", prefix);
		printf("%slatency_avg = n/a (ms)\n", prefix);
		printf("%slatency_p95 = n/a (ms)\n", prefix);
		printf("%slatency_p99 = n/a (ms)\n", prefix);
		printf("%slatency_max = n/a (ms)\n", prefix);
		return;
	}

	qsort(lat->values, lat->n, sizeof(int64), cmp_int64);
	for (i = 0; i < lat->n; i++)
		sum += lat->values[i];

	printf("%slatency_min = %.3f (ms)\n", prefix, lat->values[0] / 1000.0);
	printf("%slatency_p50 = %.3f (ms)\n", prefix, percentile(lat, 50) / 1000.0);
	printf("%slatency_avg = %.3f (ms)\n", prefix, (double) sum / lat->n / 1000.0);
	printf("%slatency_p95 = %.3f (ms)\n", prefix, percentile(lat, 95) / 1000.0);
	printf("%slatency_p99 = %.3f (ms)\n", prefix, percentile(lat, 99) / 1000.0);
	printf("%slatency_max = %.3f (ms)\n", prefix,
		   lat->values[lat->n - 1] / 1000.0);
}

/* The first QUERY_TEXT_REPORT_LEN bytes, cut on a UTF-8 boundary. */
static void
print_query_text(int qno, const char *text)
{
	size_t		len = strlen(text);
	size_t		i;

	if (len > QUERY_TEXT_REPORT_LEN)
	{
		len = QUERY_TEXT_REPORT_LEN;
		while (len > 0 && ((unsigned char) text[len] & 0xC0) == 0x80)
			len--;
	}
	printf("query_%d_text = ", qno);
	for (i = 0; i < len; i++)
		putchar(iscntrl((unsigned char) text[i]) ? ' ' : text[i]);
	putchar('\n');
}

/*
 * apply_option
 *		One option of the command line (c, as getopt_long returned it, and
 *		optarg) into its setting; a query file (-f) into files[*nfiles].
 *		Exits on --help, --version and a bad value.
 */
static void
apply_option(int c, int argc, char **argv, const char **files, int *nfiles)
{
	switch (c)
	{
		case 'c':
			if (!parse_int_option(optarg, "-c/--clients", 1, MAX_CLIENTS,
								  &nclients))
				bad_option();
			break;
		case 'd':
			dbname = pg_strdup(optarg);
			break;
		case 'f':
			files[(*nfiles)++] = pg_strdup(optarg);
			break;
		case 'h':
			pghost = pg_strdup(optarg);
			break;
		case 'j':
			if (!parse_int_option(optarg, "-j/--threads", 1, MAX_CLIENTS,
								  &nthreads))
				bad_option();
			break;
		case 'p':
			pgport = pg_strdup(optarg);
			break;
		case 'P':
			add_param(optarg);
			break;
		case 'r':
			per_query = true;
			break;
		case 'R':
			{
				char	   *end;

				errno = 0;
				rate = strtod(optarg, &end);
				if (errno != 0 || *end != '\0' || !(rate > 0) || rate > 1e9)
				{
					pg_log_error("invalid value \"%s\" for option -R/--rate", optarg);
					bad_option();
				}
			}
			break;
		case 's':
			if (!parse_seed(optarg, &random_seed))
				bad_option();
			break;
		case 't':
			if (!parse_int_option(optarg, "-t/--transactions", 1, INT_MAX,
								  &nxacts))
				bad_option();
			break;
		case 'T':
			if (!parse_int_option(optarg, "-T/--time", 1, INT_MAX,
								  &duration))
				bad_option();
			break;
		case 'U':
			pguser = pg_strdup(optarg);
			break;
		case 'V':
			printf("%s (pg_dynamic_tables) %s\n", progname, DT_LOADTEST_VERSION);
			exit(0);
			break;
		case 1:				/* --warmup */
			if (!parse_int_option(optarg, "--warmup", 0, INT_MAX, &warmup))
				bad_option();
			break;
		case '?':
			/* --help anywhere, or an unknown option (already reported) */
			if (optind > 0 && optind <= argc &&
				strcmp(argv[optind - 1], "--help") == 0)
			{
				usage();
				exit(0);
			}
			bad_option();
			break;
		default:
			bad_option();
			break;
	}
}

/*
 * check_options
 *		The settings agree with each other; a duration by default.  nfiles:
 *		how many query files were given (one at least).
 */
static void
check_options(int nfiles)
{
	if (duration > 0 && nxacts > 0)
	{
		pg_log_error("specify either a number of transactions (-t) or a duration (-T), not both");
		bad_option();
	}
	if (duration == 0 && nxacts == 0)
		duration = DEFAULT_DURATION;
	if (nthreads > nclients)
	{
		pg_log_error("number of threads (%d) must not exceed number of clients (%d)",
					 nthreads, nclients);
		bad_option();
	}
	if (nfiles == 0)
	{
		pg_log_error("no query file specified");
		pg_log_error_hint("Give the queries with -f FILE, one a line.");
		exit(1);
	}
}

/*
 * parse_options
 *		The command line into the settings (nclients, rate, ...); returns the
 *		query files named, *nfiles_out of them.  Exits on --help, --version
 *		and anything wrong, as pgbench does.
 */
static const char **
parse_options(int argc, char **argv, int *nfiles_out)
{
	static struct option long_options[] = {
		{"clients", required_argument, NULL, 'c'},
		{"dbname", required_argument, NULL, 'd'},
		{"file", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, '?'},
		{"host", required_argument, NULL, 'h'},
		{"param", required_argument, NULL, 'P'},
		{"per-query", no_argument, NULL, 'r'},
		{"rate", required_argument, NULL, 'R'},
		{"port", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 's'},
		{"threads", required_argument, NULL, 'j'},
		{"time", required_argument, NULL, 'T'},
		{"transactions", required_argument, NULL, 't'},
		{"username", required_argument, NULL, 'U'},
		{"version", no_argument, NULL, 'V'},
		{"warmup", required_argument, NULL, 1},
		{NULL, 0, NULL, 0}
	};
	const char **files;
	int			nfiles = 0;
	int			c;
	int			optindex;

	if (argc > 1)
	{
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0)
		{
			usage();
			exit(0);
		}
		if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		{
			printf("%s (pg_dynamic_tables) %s\n", progname, DT_LOADTEST_VERSION);
			exit(0);
		}
	}

	files = pg_malloc(sizeof(char *) * argc);
	while ((c = getopt_long(argc, argv, "c:d:f:h:j:p:P:rR:s:t:T:U:V",
							long_options, &optindex)) != -1)
		apply_option(c, argc, argv, files, &nfiles);

	if (optind < argc)
	{
		if (dbname != NULL)
		{
			pg_log_error("database specified both with -d and as an argument (\"%s\")",
						 argv[optind]);
			bad_option();
		}
		dbname = argv[optind++];
	}
	if (optind < argc)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")",
					 argv[optind]);
		bad_option();
	}
	check_options(nfiles);
	*nfiles_out = nfiles;
	return files;
}

/*
 * load_queries
 *		Read and compile the queries of the files; warn about parameters no
 *		query uses.
 */
static void
load_queries(const char **files, int nfiles)
{
	int			i;
	int			q;

	for (i = 0; i < nfiles; i++)
		read_query_file(files[i]);
	if (nqueries == 0)
		pg_fatal("no queries found in the query files");
	if (total_weight == 0)
		pg_fatal("total weight of the queries is zero");
	for (q = 0; q < nqueries; q++)
		compile_query(&queries[q]);
	for (i = 0; i < nparams; i++)
	{
		if (!params[i].used)
			pg_log_warning("parameter \"%s\" is used by no query", params[i].name);
	}
}

/*
 * make_threads
 *		The threads and their share of the clients; each client has its own
 *		random stream, seeded from --seed.
 */
static Thread *
make_threads(void)
{
	pg_prng_state seeder;
	Thread	   *threads;
	int			client_id;
	int			i;
	int			j;

	/* Set up threads and clients; each client has its own random stream. */
	INSTR_TIME_SET_CURRENT(epoch);
	pg_prng_seed(&seeder, random_seed);
	threads = pg_malloc0(sizeof(Thread) * nthreads);
	client_id = 0;
	for (i = 0; i < nthreads; i++)
	{
		Thread	   *th = &threads[i];

		th->id = i;
		th->nclients = nclients / nthreads + (i < nclients % nthreads ? 1 : 0);
		th->clients = pg_malloc0(sizeof(Client) * th->nclients);
		for (j = 0; j < th->nclients; j++)
		{
			Client	   *cl = &th->clients[j];

			cl->id = client_id++;
			cl->state = CSTATE_IDLE;
			pg_prng_seed(&cl->prng, pg_prng_uint64(&seeder));
			cl->sql = createPQExpBuffer();
			cl->choice = pg_malloc(sizeof(int) * (nparams + 1));
		}
		th->stats = pg_malloc0(sizeof(QueryStats) * nqueries);
		th->error_seen = pg_malloc0(sizeof(bool) * nqueries);
		th->pollfds = pg_malloc0(sizeof(struct pollfd) * th->nclients);
		th->pollclients = pg_malloc0(sizeof(Client *) * th->nclients);
	}
	return threads;
}

/*
 * run_threads
 *		Start the threads, open the gate once every connection is open (the
 *		clock starts then, after the warmup), and wait for them to end.  A
 *		thread that could not connect aborts the run.
 */
static void
run_threads(Thread *threads)
{
	const char *first_error = NULL;
	int			i;

	for (i = 0; i < nthreads; i++)
	{
		int			err = pthread_create(&threads[i].handle, NULL, thread_main,
										 &threads[i]);

		if (err != 0)
			pg_fatal("could not create thread: %s", strerror(err));
	}

	/* Wait until every connection is open, then start the clock. */
	pthread_mutex_lock(&gate_mutex);
	while (nready < nthreads)
		pthread_cond_wait(&gate_cond, &gate_mutex);
	for (i = 0; i < nthreads && first_error == NULL; i++)
		first_error = threads[i].connect_error;
	if (first_error != NULL)
		gate = GATE_ABORT;
	else
	{
		measure_start_us = now_us() + warmup * USECS_PER_SECOND;
		measure_end_us = nxacts > 0 ? PG_INT64_MAX :
			measure_start_us + duration * USECS_PER_SECOND;
		gate = GATE_OPEN;
	}
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mutex);

	for (i = 0; i < nthreads; i++)
	{
		int			err = pthread_join(threads[i].handle, NULL);

		if (err != 0)
			pg_fatal("could not join thread: %s", strerror(err));
	}
	if (first_error != NULL)
		pg_fatal("%s", first_error);
}

/*
 * report
 *		Merge the statistics of the threads and print them, as key = value
 *		(unit) lines; with --per-query, per query too.  Returns the clients
 *		that aborted; *nerrors_out: the queries that failed.
 */
static int
report(Thread *threads, int64 *nerrors_out)
{
	QueryStats *merged;
	SampleArray all = {NULL, 0, 0};
	int64		ntransactions = 0;
	int64		nerrors = 0;
	int			naborted = 0;
	int64		end_us;
	double		elapsed;
	int			i;
	int			q;

	/* Merge the statistics of the threads. */
	merged = pg_malloc0(sizeof(QueryStats) * nqueries);
	end_us = measure_start_us;
	for (i = 0; i < nthreads; i++)
	{
		Thread	   *th = &threads[i];

		for (q = 0; q < nqueries; q++)
		{
			sample_concat(&merged[q].latencies, &th->stats[q].latencies);
			merged[q].errors += th->stats[q].errors;
		}
		naborted += th->naborted;
		if (th->end_us > end_us)
			end_us = th->end_us;
	}
	for (q = 0; q < nqueries; q++)
	{
		sample_concat(&all, &merged[q].latencies);
		nerrors += merged[q].errors;
	}
	ntransactions = all.n;
	elapsed = (end_us - measure_start_us) / 1000000.0;

	printf("clients = %d\n", nclients);
	if (rate > 0)
		printf("rate = %.1f (1/s)\n", rate);
	printf("threads = %d\n", nthreads);
	printf("duration = %.3f (s)\n", elapsed);
	printf("transactions = %lld\n", (long long) ntransactions);
	printf("errors = %lld\n", (long long) nerrors);
	printf("tps = %.1f (1/s)\n", elapsed > 0 ? ntransactions / elapsed : 0.0);
	print_latencies("", &all);

	if (per_query)
	{
		for (q = 0; q < nqueries; q++)
		{
			char		prefix[32];

			snprintf(prefix, sizeof(prefix), "query_%d_", q + 1);
			print_query_text(q + 1, queries[q].text);
			printf("%stransactions = %lld\n", prefix,
				   (long long) merged[q].latencies.n);
			printf("%serrors = %lld\n", prefix, (long long) merged[q].errors);
			print_latencies(prefix, &merged[q].latencies);
		}
	}
	fflush(stdout);
	*nerrors_out = nerrors;
	return naborted;
}

/*
 * main
 *		Options, queries, threads; run; report.  Exit status 0, or 2 if a
 *		query failed or a client aborted.
 */
int
main(int argc, char **argv)
{
	const char **files;
	int			nfiles;
	Thread	   *threads;
	int64		nerrors;
	int			naborted;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);
	files = parse_options(argc, argv, &nfiles);
	load_queries(files, nfiles);
	check_open_files_limit();
	threads = make_threads();
	run_threads(threads);
	naborted = report(threads, &nerrors);

	if (naborted > 0)
		pg_log_error("%d of %d clients aborted", naborted, nclients);
	if (nerrors > 0 || naborted > 0)
		exit(2);
	return 0;
}
