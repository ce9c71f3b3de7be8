/*-------------------------------------------------------------------------
 *
 * http.c
 *	  The HTTP side of dt_dashboard: the libmicrohttpd daemon, the static
 *	  pages, request parameters and responses.
 *
 * libmicrohttpd runs a pool of threads, each polling its share of the
 * client connections (epoll where there is one); a request is handled in
 * the thread that read it, which takes a database connection from pool.c
 * for the length of one statement.  With as many threads as database
 * connections, no request waits for a connection that another thread of
 * the same request load could have freed.
 *
 * The static pages are the files of <root>/static whose names are plain
 * (letters, digits, dots, dashes), read once at start and served from
 * memory; the chart library is node_modules/chart.js of <root>, installed
 * by "npm ci" (see README.md).  No path of a request is ever opened as a
 * file, so no request can read anything else.
 *
 * Requests under /api/ and /metrics go to api.c, unless their client has
 * hung up while they waited (a thread answers its connections' requests
 * one after the other, so behind slow statements requests wait).  Their parameters are
 * query-string parameters, checked here against what each endpoint
 * accepts (unknown or repeated ones are refused); no endpoint takes a
 * request body.  Every error is a JSON object {"error": ..., "sqlstate":
 * ...} with a 4xx or 5xx status.
 *
 * dashboard/http.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/logging.h"
#include "dt_dashboard.h"
#include "mb/pg_wchar.h"

#define MAX_STATIC_FILES 64
#define MAX_STATIC_SIZE (4 * 1024 * 1024)
#define MAX_PARAMS 8			/* query-string parameters a request may have */
#define CHART_JS_PATH "/vendor/chart.umd.min.js"
#define CHART_JS_FILE "node_modules/chart.js/dist/chart.umd.min.js"

/* A file served as it is, at url. */
typedef struct StaticFile
{
	char	   *url;
	struct MHD_Response *response;
} StaticFile;

static StaticFile static_files[MAX_STATIC_FILES];
static int	nstatic_files;

/*
 * What the access handler remembers of a request between its calls: its
 * headers have been seen, and whether a body came (which is refused).
 */
static int	request_started;
static int	request_with_body;

/*
 * json_append_string
 *		Append s to buf as a JSON string.  Invalid UTF-8 becomes U+FFFD, so
 *		that echoing what a client sent never makes the JSON invalid.
 */
void
json_append_string(PQExpBuffer buf, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	appendPQExpBufferChar(buf, '"');
	while (*p != '\0')
	{
		int			len;

		if (*p == '"' || *p == '\\')
		{
			appendPQExpBufferChar(buf, '\\');
			appendPQExpBufferChar(buf, (char) *p++);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
		{
			appendPQExpBuffer(buf, "\\u%04x", *p++);
			continue;
		}
		if (*p < 0x80)
		{
			appendPQExpBufferChar(buf, (char) *p++);
			continue;
		}
		len = pg_utf_mblen(p);
		if (strnlen((const char *) p, len) == (size_t) len && pg_utf8_islegal(p, len))
		{
			appendBinaryPQExpBuffer(buf, (const char *) p, len);
			p += len;
		}
		else
		{
			appendPQExpBufferStr(buf, "\\ufffd");
			p++;
		}
	}
	appendPQExpBufferChar(buf, '"');
}

/*
 * response_error
 *		Make resp a JSON error: {"error": message, "sqlstate": sqlstate}
 *		(sqlstate may be NULL) with the given status.
 */
void
response_error(DashResponse *resp, unsigned int status, const char *message,
			   const char *sqlstate)
{
	resp->status = status;
	resp->content_type = "application/json";
	resetPQExpBuffer(resp->body);
	appendPQExpBufferStr(resp->body, "{\"error\": ");
	json_append_string(resp->body, message);
	if (sqlstate != NULL && sqlstate[0] != '\0')
	{
		appendPQExpBufferStr(resp->body, ", \"sqlstate\": ");
		json_append_string(resp->body, sqlstate);
	}
	appendPQExpBufferStr(resp->body, "}\n");
}

/*
 * response_db_error
 *		Make resp the JSON error of a statement that failed, with a status
 *		saying whose fault it is: 403 for a privilege PostgreSQL refused,
 *		404 for an object this database does not have (the examples not
 *		loaded), 409 for a conflict with another session, 503 when the
 *		database cannot be reached or the server is stopping (57P01, not
 *		logged), 504 for a statement timeout, 500 else.
 */
void
response_db_error(DashResponse *resp, const DashError *err)
{
	const char *s = err->sqlstate;
	unsigned int status;

	if (s[0] == '\0' || strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0)
		status = 503;
	else if (strcmp(s, "42501") == 0)
		status = 403;
	else if (strcmp(s, "42P01") == 0 || strcmp(s, "3F000") == 0 || strcmp(s, "42883") == 0)
		status = 404;
	else if (strcmp(s, "57014") == 0)
		status = 504;
	else if (strcmp(s, "55P03") == 0 || strncmp(s, "40", 2) == 0)
		status = 409;
	else
		status = 500;
	if (status >= 500 && strcmp(s, "57P01") != 0)
		pg_log_error("statement failed: %s%s%s", err->message,
					 s[0] != '\0' ? " SQLSTATE " : "", s);
	response_error(resp, status, err->message, s);
}

/*
 * request_param
 *		The value of query-string parameter name, or NULL.
 */
const char *
request_param(DashRequest *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * request_header
 *		The value of request header name, or NULL.
 */
const char *
request_header(DashRequest *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* State of check_param, the iterator of request_allow_params. */
typedef struct ParamCheck
{
	const char *const *allowed;
	const char *seen[MAX_PARAMS];
	int			nseen;
	char		problem[200];
} ParamCheck;

static enum MHD_Result
check_param(void *cls, enum MHD_ValueKind kind, const char *key,
			const char *value)
{
	ParamCheck *pc = cls;
	const char *const *a;
	int			i;

	for (a = pc->allowed; *a != NULL; a++)
		if (strcmp(*a, key) == 0)
			break;
	if (*a == NULL)
	{
		snprintf(pc->problem, sizeof(pc->problem), "unknown parameter \"%.64s\"", key);
		return MHD_NO;
	}
	for (i = 0; i < pc->nseen; i++)
		if (strcmp(pc->seen[i], key) == 0)
		{
			snprintf(pc->problem, sizeof(pc->problem), "parameter \"%s\" given more than once", key);
			return MHD_NO;
		}
	if (pc->nseen == MAX_PARAMS)
	{
		snprintf(pc->problem, sizeof(pc->problem), "too many parameters");
		return MHD_NO;
	}
	pc->seen[pc->nseen++] = *a;
	return MHD_YES;
}

/*
 * request_allow_params
 *		Check that every query-string parameter of req is one of names (a
 *		NULL-terminated list) and none is repeated.  Otherwise make resp a
 *		400 error and return false.
 */
bool
request_allow_params(DashRequest *req, const char *const *names,
					 DashResponse *resp)
{
	ParamCheck	pc;

	pc.allowed = names;
	pc.nseen = 0;
	pc.problem[0] = '\0';
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_param, &pc);
	if (pc.problem[0] == '\0')
		return true;
	response_error(resp, 400, pc.problem, NULL);
	return false;
}

/*
 * request_text_param
 *		Read text parameter name into *value: NULL when absent and not
 *		required.  It must be 1 to maxlen bytes of UTF-8 without control
 *		characters; with ident_only, only ASCII letters, digits and "_.:-".
 *		Otherwise make resp a 400 error and return false.
 */
bool
request_text_param(DashRequest *req, const char *name, bool required,
				   int maxlen, bool ident_only, const char **value,
				   DashResponse *resp)
{
	const char *v = request_param(req, name);
	char		msg[200];
	size_t		len;
	const char *p;

	*value = v;
	if (v == NULL)
	{
		if (!required)
			return true;
		snprintf(msg, sizeof(msg), "missing parameter \"%s\"", name);
		response_error(resp, 400, msg, NULL);
		return false;
	}
	len = strlen(v);
	if (len == 0 || len > (size_t) maxlen)
	{
		snprintf(msg, sizeof(msg), "parameter \"%s\" must be 1 to %d bytes long", name, maxlen);
		response_error(resp, 400, msg, NULL);
		return false;
	}
	for (p = v; *p != '\0'; p++)
	{
		unsigned char c = (unsigned char) *p;
		bool		bad = c < 0x20 || c == 0x7f;

		if (ident_only)
			bad = !(isalnum(c) && c < 0x80) && strchr("_.:-", c) == NULL;
		if (bad)
		{
			snprintf(msg, sizeof(msg), "parameter \"%s\" has a character it cannot have%s", name,
					 ident_only ? " (letters, digits and \"_.:-\" only)" : "");
			response_error(resp, 400, msg, NULL);
			return false;
		}
	}
	if (pg_encoding_verifymbstr(PG_UTF8, v, (int) len) != (int) len)
	{
		snprintf(msg, sizeof(msg), "parameter \"%s\" is not valid UTF-8", name);
		response_error(resp, 400, msg, NULL);
		return false;
	}
	return true;
}

/*
 * request_int_param
 *		Read integer parameter name into *value (dflt when absent).  It must
 *		be decimal digits within min..max; otherwise make resp a 400 error
 *		and return false.
 */
bool
request_int_param(DashRequest *req, const char *name, int min, int max,
				  int dflt, int *value, DashResponse *resp)
{
	const char *v = request_param(req, name);
	long		n = 0;
	const char *p;
	char		msg[200];

	*value = dflt;
	if (v == NULL)
		return true;
	for (p = v; *p != '\0' && n <= max; p++)
	{
		if (!isdigit((unsigned char) *p))
			break;
		n = n * 10 + (*p - '0');
	}
	if (*v == '\0' || *p != '\0' || n < min || n > max)
	{
		snprintf(msg, sizeof(msg), "parameter \"%s\" must be an integer from %d to %d", name, min, max);
		response_error(resp, 400, msg, NULL);
		return false;
	}
	*value = (int) n;
	return true;
}

/*
 * client_gone
 *		Whether the client of conn has closed its side of the connection: a
 *		request that waited behind slow ones for so long that its client
 *		gave up is not worth running.
 */
static bool
client_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info;
	struct pollfd pfd;

	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info == NULL)
		return false;
	pfd.fd = info->connect_fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/*
 * add_common_headers
 *		The headers of every response: no MIME sniffing, no framing by
 *		other sites, and for pages only scripts and styles of this server.
 */
static void
add_common_headers(struct MHD_Response *r, const char *content_type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (strncmp(content_type, "text/html", 9) == 0)
		MHD_add_response_header(r, "Content-Security-Policy",
								"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
}

/*
 * content_type_of
 *		The Content-Type of a static file by its extension, or NULL for a
 *		file the server does not serve.
 */
static const char *
content_type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return NULL;
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return NULL;
}

/*
 * add_static_file
 *		Read file path into memory and serve it at url.  Returns false,
 *		after logging why, if it cannot be read.
 */
static bool
add_static_file(const char *url, const char *path, const char *content_type)
{
	FILE	   *f;
	char	   *data;
	size_t		len;
	struct MHD_Response *r;

	if (nstatic_files == MAX_STATIC_FILES)
	{
		pg_log_error("more than %d static files", MAX_STATIC_FILES);
		return false;
	}
	f = fopen(path, "rb");
	if (f == NULL)
	{
		pg_log_error("could not open \"%s\": %m", path);
		return false;
	}
	data = pg_malloc(MAX_STATIC_SIZE);
	len = fread(data, 1, MAX_STATIC_SIZE, f);
	if (ferror(f) || !feof(f))
	{
		pg_log_error("could not read \"%s\" (or it is larger than %d bytes)", path, MAX_STATIC_SIZE);
		fclose(f);
		pg_free(data);
		return false;
	}
	fclose(f);
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	add_common_headers(r, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	static_files[nstatic_files].url = pg_strdup(url);
	static_files[nstatic_files].response = r;
	nstatic_files++;
	return true;
}

/*
 * load_static_files
 *		Serve every plain-named page, script and style sheet of
 *		<root>/static at /<name> (index.html also at /), and the chart
 *		library.  False, after logging why, when the pages cannot be read;
 *		a missing chart library is only a warning (the pages say so).
 */
static bool
load_static_files(const char *root)
{
	char		dir[MAXPGPATH];
	char		path[MAXPGPATH];
	char		url[MAXPGPATH];
	DIR		   *d;
	struct dirent *de;
	bool		ok = true;

	snprintf(dir, sizeof(dir), "%s/static", root);
	d = opendir(dir);
	if (d == NULL)
	{
		pg_log_error("could not open directory \"%s\": %m", dir);
		pg_log_error_hint("Use --root to name the directory that holds static/ and node_modules/.");
		return false;
	}
	while (ok && (de = readdir(d)) != NULL)
	{
		const char *type = content_type_of(de->d_name);

		if (type == NULL || de->d_name[0] == '.' ||
			strspn(de->d_name, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(url, sizeof(url), "/%s", de->d_name);
		ok = add_static_file(url, path, type);
		if (ok && strcmp(de->d_name, "index.html") == 0)
			ok = add_static_file("/", path, type);
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/%s", root, CHART_JS_FILE);
	if (ok && access(path, R_OK) == 0)
		ok = add_static_file(CHART_JS_PATH, path, "text/javascript; charset=utf-8");
	else if (ok)
		pg_log_warning("chart library \"%s\" not found: the pages will show no charts; run \"npm ci\" in \"%s\"",
					   path, root);
	return ok;
}

/*
 * send_response
 *		Queue resp on conn with the common headers and no caching.
 */
static enum MHD_Result
send_response(struct MHD_Connection *conn, DashResponse *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(resp->body->len, resp->body->data,
										MHD_RESPMEM_MUST_COPY);
	add_common_headers(r, resp->content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (resp->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * handle_request
 *		libmicrohttpd's access handler.  The first call for a request (its
 *		headers) only marks it started; calls with a piece of its body
 *		discard it and mark it refused; the last call answers: a static
 *		file, or api.c's response.
 */
static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version,
			   const char *upload_data, size_t *upload_data_size,
			   void **con_cls)
{
	DashRequest req = {conn};
	DashResponse resp;
	enum MHD_Result ret;
	bool		is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int			i;

	if (*con_cls == NULL)
	{
		*con_cls = &request_started;
		return MHD_YES;
	}

	if (*upload_data_size > 0)
	{
		*upload_data_size = 0;
		*con_cls = &request_with_body;
		return MHD_YES;
	}

	resp.status = 200;
	resp.content_type = "application/json";
	resp.body = createPQExpBuffer();
	resp.allow = NULL;

	if (*con_cls == &request_with_body)
		response_error(&resp, 400, "no endpoint of this server takes a request body; "
					   "parameters go in the query string", NULL);
	else if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics") == 0)
	{
		if (client_gone(conn))
		{
			destroyPQExpBuffer(resp.body);
			return MHD_NO;
		}
		if (!api_dispatch(&req, method, url, &resp))
			response_error(&resp, 404, "no such endpoint", NULL);
	}
	else
	{
		for (i = 0; i < nstatic_files; i++)
			if (strcmp(static_files[i].url, url) == 0)
				break;
		if (i < nstatic_files && is_get)
		{
			destroyPQExpBuffer(resp.body);
			return MHD_queue_response(conn, MHD_HTTP_OK, static_files[i].response);
		}
		if (i < nstatic_files)
		{
			response_error(&resp, 405, "pages are read with GET", NULL);
			resp.allow = "GET, HEAD";
		}
		else if (strcmp(url, CHART_JS_PATH) == 0)
			response_error(&resp, 404, "the chart library is not installed: run \"npm ci\" in the dashboard directory", NULL);
		else
			response_error(&resp, 404, "no such page", NULL);
	}
	ret = send_response(conn, &resp);
	destroyPQExpBuffer(resp.body);
	return ret;
}

/*
 * http_start
 *		Load the static files of root and start the daemon on listen_addr
 *		(a numeric IPv4 or IPv6 address, or a host name) and port (0: any
 *		free port) with nthreads threads.  Sets *bound_port to the port it
 *		listens on.  Returns NULL, after logging why, on failure.
 */
struct MHD_Daemon *
http_start(const char *listen_addr, int port, int nthreads, const char *root,
		   int *bound_port)
{
	struct addrinfo hints;
	struct addrinfo *ai;
	char		portstr[16];
	int			rc;
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	if (!load_static_files(root))
		return NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(listen_addr, portstr, &hints, &ai);
	if (rc != 0)
	{
		pg_log_error("could not resolve listen address \"%s\": %s", listen_addr, gai_strerror(rc));
		return NULL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL,
						 handle_request, NULL,
						 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
						 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) nthreads,
						 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
						 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
						 MHD_OPTION_END);
	freeaddrinfo(ai);
	if (d == NULL)
	{
		pg_log_error("could not listen on %s port %d", listen_addr, port);
		return NULL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info != NULL ? info->port : port;
	return d;
}
