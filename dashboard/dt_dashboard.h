/*-------------------------------------------------------------------------
 *
 * dt_dashboard.h
 *	  Declarations shared by the files of dt_dashboard, the web server of
 *	  pg_dynamic_tables: the FlakeBench dashboard, the console for dynamic
 *	  tables and their Prometheus metrics.
 *
 * The server reads only the database.  Every statement it runs is one of
 * the fixed statements of api.c, prepared once per pooled connection and
 * executed with parameters; request input is never part of SQL text.
 *
 * dashboard/dt_dashboard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_DASHBOARD_H
#define DT_DASHBOARD_H

#include "libpq-fe.h"
#include "pqexpbuffer.h"

#define DT_DASHBOARD_VERSION "1.0"

/*
 * A statement of the server.  With dt set, "{rel}" in sql stands for what
 * the statement reads: the dynamic table dt itself, or, when computed is
 * true, its defining query as dt.dynamic_tables.query prints it (so that
 * the same page can be computed from the base tables, for comparison).
 */
typedef struct DashStatement
{
	const char *name;			/* prepared statement name */
	const char *sql;
	int			nparams;		/* all of type text */
	const char *dt;				/* schema-qualified dynamic table, or NULL */
	bool		computed;		/* {rel} is dt's defining query */
} DashStatement;

/*
 * The response being built for one request: status, content type and
 * body.  Handlers fill it; http.c sends it.
 */
typedef struct DashResponse
{
	unsigned int status;
	const char *content_type;
	PQExpBuffer body;
	const char *allow;			/* the Allow header of a 405, else NULL */
} DashResponse;

/* The statements of dash_statements (api.c), by position. */
typedef enum DashStatementId
{
	ST_TABLE_TYPES,
	ST_TABLE_TYPES_COMPUTED,
	ST_TABLE_TYPE,
	ST_TABLE_TYPE_COMPUTED,
	ST_TEMPLATES,
	ST_TEMPLATES_COMPUTED,
	ST_TEMPLATE,
	ST_TEMPLATE_COMPUTED,
	ST_TEMPLATE_RUNS,
	ST_TEMPLATE_HISTOGRAM,
	ST_DAILY_COST,
	ST_DAILY_COST_COMPUTED,
	ST_DYNAMIC_TABLES,
	ST_HISTORY,
	ST_LAG,
	ST_SUSPEND,
	ST_RESUME,
	ST_REFRESH,
	ST_METRICS_TABLES,
	ST_METRICS_HISTORY,
	ST_COUNT
} DashStatementId;

/* A request being answered: the libmicrohttpd connection it came on. */
struct MHD_Connection;
typedef struct DashRequest
{
	struct MHD_Connection *conn;
} DashRequest;

/* Why a statement gave no result: PostgreSQL's message and SQLSTATE. */
typedef struct DashError
{
	char		message[1024];
	char		sqlstate[6];	/* "" when the failure is not the server's */
} DashError;

/* in api.c */
extern const DashStatement dash_statements[ST_COUNT];
extern bool api_dispatch(DashRequest *req, const char *method,
						 const char *path, DashResponse *resp);

/* in http.c */
extern const char *request_param(DashRequest *req, const char *name);
extern const char *request_header(DashRequest *req, const char *name);
extern bool request_allow_params(DashRequest *req, const char *const *names,
								 DashResponse *resp);
extern bool request_text_param(DashRequest *req, const char *name,
							   bool required, int maxlen, bool ident_only,
							   const char **value, DashResponse *resp);
extern bool request_int_param(DashRequest *req, const char *name,
							  int min, int max, int dflt,
							  int *value, DashResponse *resp);
extern void response_error(DashResponse *resp, unsigned int status,
						   const char *message, const char *sqlstate);
extern void response_db_error(DashResponse *resp, const DashError *err);
extern void json_append_string(PQExpBuffer buf, const char *s);
extern struct MHD_Daemon *http_start(const char *listen_addr, int port,
									 int nthreads, const char *root,
									 int *bound_port);

/* in pool.c */
extern bool pool_init(const char *conninfo, int size, int statement_timeout_ms);
extern void pool_stop(void);
extern void pool_close(void);
extern PGresult *pool_exec(DashStatementId statement,
						   const char *const *values, DashError *err);

/* in metrics.c */
extern void metrics_write(DashResponse *resp);

#endif							/* DT_DASHBOARD_H */
