/*-------------------------------------------------------------------------
 *
 * pool.c
 *	  The pool of database connections of dt_dashboard.
 *
 * A fixed number of libpq connections, opened lazily and shared by the
 * server's threads: a request takes a free connection (waiting on a
 * condition variable while none is free), runs one statement, and gives it
 * back.  Each connection prepares a statement of api.c the first time it
 * runs it, so a page costs one round trip and no planning after the first
 * request.  A connection that breaks is opened again by the next request
 * that takes it; a statement whose connection broke is retried once on a
 * fresh connection.
 *
 * pool_stop, at shutdown, cancels the statements running (PQcancel) and
 * makes every later pool_exec fail at once, so that the server's threads
 * finish their queued requests in moments, not statement timeouts.
 *
 * Every statement is executed with PQexecPrepared and text parameters:
 * request input never becomes SQL text.  The only SQL text built here is
 * a statement's "{rel}", replaced by a dynamic table's name written in
 * api.c or by the defining query that dt.dynamic_tables holds for it.
 *
 * dashboard/pool.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <pthread.h>

#include "common/logging.h"
#include "dt_dashboard.h"

typedef struct PoolConn
{
	PGconn	   *conn;			/* NULL until first used, or after a break */
	PGcancel   *cancel;			/* its cancel object (set under pool_mutex) */
	bool	   *prepared;		/* per statement of dash_statements */
	bool		busy;
} PoolConn;

static PoolConn *conns;
static int	nconns;
static char *pool_conninfo;
static char pool_timeout[32];	/* statement_timeout, in ms, as text */
static bool pool_stopping;		/* set by pool_stop, under pool_mutex */
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;

/*
 * set_error
 *		Fill err from a failed result (its primary message, detail and
 *		SQLSTATE) or, with res NULL, from the connection's message.
 */
static void
set_error(DashError *err, PGconn *conn, const PGresult *res)
{
	const char *msg;
	const char *detail = NULL;
	const char *state = NULL;

	if (res != NULL)
	{
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (msg == NULL)
			msg = PQresultErrorMessage(res);
	}
	else
		msg = PQerrorMessage(conn);
	if (detail != NULL)
		snprintf(err->message, sizeof(err->message), "%s (%s)", msg, detail);
	else
		snprintf(err->message, sizeof(err->message), "%s", msg);
	/* libpq's own messages end with a newline */
	err->message[strcspn(err->message, "\n")] = '\0';
	strlcpy(err->sqlstate, state != NULL ? state : "", sizeof(err->sqlstate));
}

/*
 * pool_init
 *		Set up a pool of size connections to conninfo (a libpq connection
 *		string or URI; empty: the PG* environment), each with the given
 *		statement_timeout, and check that one connects.  Returns false,
 *		after logging why, if it does not.
 */
bool
pool_init(const char *conninfo, int size, int statement_timeout_ms)
{
	int			i;
	PGconn	   *probe;
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {conninfo, "dt_dashboard", NULL};

	pool_conninfo = pg_strdup(conninfo);
	snprintf(pool_timeout, sizeof(pool_timeout), "%d", statement_timeout_ms);
	nconns = size;
	conns = pg_malloc0(sizeof(PoolConn) * size);
	for (i = 0; i < size; i++)
		conns[i].prepared = pg_malloc0(sizeof(bool) * ST_COUNT);

	/* the pool's connections are opened by the requests that need them */
	probe = PQconnectdbParams(keywords, values, 1);
	if (PQstatus(probe) != CONNECTION_OK)
	{
		pg_log_error("could not connect to the database: %s", PQerrorMessage(probe));
		PQfinish(probe);
		return false;
	}
	PQfinish(probe);
	return true;
}

/*
 * pool_stop
 *		Cancel the statements running now and fail every later one: the
 *		server is stopping.
 */
void
pool_stop(void)
{
	char		errbuf[256];
	int			i;

	pthread_mutex_lock(&pool_mutex);
	pool_stopping = true;
	for (i = 0; i < nconns; i++)
		if (conns[i].busy && conns[i].cancel != NULL)
			PQcancel(conns[i].cancel, errbuf, sizeof(errbuf));
	pthread_mutex_unlock(&pool_mutex);
}

/*
 * pool_close
 *		Close every connection.  No request may be running.
 */
void
pool_close(void)
{
	int			i;

	for (i = 0; i < nconns; i++)
	{
		if (conns[i].cancel != NULL)
			PQfreeCancel(conns[i].cancel);
		if (conns[i].conn != NULL)
			PQfinish(conns[i].conn);
	}
}

/*
 * acquire, release
 *		Take a free connection of the pool, waiting while none is free
 *		(NULL once the pool is stopping); give it back.
 */
static PoolConn *
acquire(void)
{
	PoolConn   *pc = NULL;
	int			i;

	pthread_mutex_lock(&pool_mutex);
	for (;;)
	{
		if (pool_stopping)
		{
			pthread_mutex_unlock(&pool_mutex);
			return NULL;
		}
		for (i = 0; i < nconns && pc == NULL; i++)
			if (!conns[i].busy)
				pc = &conns[i];
		if (pc != NULL)
			break;
		pthread_cond_wait(&pool_cond, &pool_mutex);
	}
	pc->busy = true;
	pthread_mutex_unlock(&pool_mutex);
	return pc;
}

static void
release(PoolConn *pc)
{
	pthread_mutex_lock(&pool_mutex);
	pc->busy = false;
	pthread_cond_signal(&pool_cond);
	pthread_mutex_unlock(&pool_mutex);
}

/*
 * set_cancel
 *		Make pc's cancel object that of its connection (none if NULL).
 */
static void
set_cancel(PoolConn *pc)
{
	PGcancel   *cancel = pc->conn != NULL ? PQgetCancel(pc->conn) : NULL;

	pthread_mutex_lock(&pool_mutex);
	if (pc->cancel != NULL)
		PQfreeCancel(pc->cancel);
	pc->cancel = cancel;
	pthread_mutex_unlock(&pool_mutex);
}

/*
 * connect_if_needed
 *		Open pc's connection if it has none or it broke, and set its
 *		statement_timeout.  False, with err set, if that fails.
 */
static bool
connect_if_needed(PoolConn *pc, DashError *err)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {pool_conninfo, "dt_dashboard", NULL};
	const char *timeout[] = {pool_timeout};
	PGresult   *res;

	if (pc->conn != NULL && PQstatus(pc->conn) == CONNECTION_OK)
		return true;
	if (pc->conn != NULL)
		PQfinish(pc->conn);
	memset(pc->prepared, 0, sizeof(bool) * ST_COUNT);
	pc->conn = PQconnectdbParams(keywords, values, 1);
	if (PQstatus(pc->conn) != CONNECTION_OK)
	{
		set_error(err, pc->conn, NULL);
		PQfinish(pc->conn);
		pc->conn = NULL;
		set_cancel(pc);
		return false;
	}
	set_cancel(pc);
	res = PQexecParams(pc->conn, "SELECT pg_catalog.set_config('statement_timeout', $1, false)",
					   1, NULL, timeout, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_error(err, pc->conn, res);
		PQclear(res);
		return false;
	}
	PQclear(res);
	return true;
}

/*
 * prepare
 *		Prepare statement number i of dash_statements on pc's connection.
 *		False, with err set, if it cannot be: a relation it reads is
 *		missing, or its dynamic table is not one.
 */
static bool
prepare(PoolConn *pc, DashStatementId i, DashError *err)
{
	const DashStatement *st = &dash_statements[i];
	PQExpBuffer sql = createPQExpBuffer();
	PGresult   *res;
	bool		ok = true;

	if (st->dt == NULL)
		appendPQExpBufferStr(sql, st->sql);
	else
	{
		PQExpBuffer rel = createPQExpBuffer();
		const char *marker;
		const char *rest = st->sql;

		if (st->computed)
		{
			const char *dt[] = {st->dt};

			res = PQexecParams(pc->conn,
							   "SELECT query FROM dt.dynamic_tables WHERE relid = pg_catalog.to_regclass($1)",
							   1, NULL, dt, NULL, NULL, 0);
			if (PQresultStatus(res) != PGRES_TUPLES_OK)
			{
				set_error(err, pc->conn, res);
				ok = false;
			}
			else if (PQntuples(res) == 0)
			{
				snprintf(err->message, sizeof(err->message),
						 "relation \"%s\" is not a dynamic table in this database", st->dt);
				strlcpy(err->sqlstate, "42P01", sizeof(err->sqlstate));
				ok = false;
			}
			else
				appendPQExpBuffer(rel, "(%s)", PQgetvalue(res, 0, 0));
			PQclear(res);
		}
		else
			appendPQExpBufferStr(rel, st->dt);
		while ((marker = strstr(rest, "{rel}")) != NULL)
		{
			appendBinaryPQExpBuffer(sql, rest, marker - rest);
			appendPQExpBufferStr(sql, rel->data);
			rest = marker + strlen("{rel}");
		}
		appendPQExpBufferStr(sql, rest);
		destroyPQExpBuffer(rel);
	}
	if (ok)
	{
		res = PQprepare(pc->conn, st->name, sql->data, st->nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			set_error(err, pc->conn, res);
			ok = false;
		}
		PQclear(res);
	}
	destroyPQExpBuffer(sql);
	pc->prepared[i] = ok;
	return ok;
}

/*
 * pool_exec
 *		Run statement number i of dash_statements with the given text
 *		parameters on a connection of the pool.  Returns its result, with
 *		status PGRES_TUPLES_OK (the caller PQclears it), or NULL with err
 *		set.  A statement whose connection broke is tried once more on a
 *		new connection: every statement of the server reads, or changes
 *		what running it twice leaves the same (suspend, resume, refresh).
 *		Once pool_stop has been called, it fails at once.
 */
PGresult *
pool_exec(DashStatementId i, const char *const *values, DashError *err)
{
	PoolConn   *pc = acquire();
	PGresult   *res = NULL;
	int			attempt;

	if (pc == NULL)
	{
		snprintf(err->message, sizeof(err->message), "the server is shutting down");
		strlcpy(err->sqlstate, "57P01", sizeof(err->sqlstate));
		return NULL;
	}
	for (attempt = 0; attempt < 2; attempt++)
	{
		if (!connect_if_needed(pc, err))
			break;
		if (!pc->prepared[i] && !prepare(pc, i, err))
		{
			if (PQstatus(pc->conn) == CONNECTION_OK)
				break;
			continue;
		}
		res = PQexecPrepared(pc->conn, dash_statements[i].name,
							 dash_statements[i].nparams, values, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			break;
		set_error(err, pc->conn, res);
		PQclear(res);
		res = NULL;
		if (PQstatus(pc->conn) == CONNECTION_OK)
			break;
	}
	release(pc);
	return res;
}
