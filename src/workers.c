/*-------------------------------------------------------------------------
 *
 * workers.c
 *		The background workers: a launcher, a scheduler per database, and
 *		the refresh workers that carry out the schedulers' decisions.
 *
 *	launcher	one per server, registered at startup and restarted by the
 *				postmaster if it dies.  Starts a scheduler for every
 *				database that accepts connections; a scheduler that finds no
 *				extension in its database says so and exits, and is tried
 *				again after CREATE EXTENSION (which wakes the launcher at
 *				commit) or five minutes.  Restarts schedulers that die.
 *	scheduler	one per database with the extension.  Every tick (at most a
 *				second, less when a DT is due sooner) it reads the catalog,
 *				plans units (schedule.c) and hands them to refresh workers.
 *				It also writes the history rows of failed manual refreshes
 *				(the failing transaction cannot), trims the history, and
 *				releases the capture that roles who dropped DTs could not.
 *	refresh worker  at most pg_dynamic_tables.max_concurrent_refreshes in the
 *				server.  Belongs to one database while alive, runs the units
 *				it is given, each in its own transaction, and exits after
 *				thirty idle seconds.  Kept alive between units so that its
 *				prepared refresh statements stay warm.
 *
 * Shared memory (DtShared) holds a slot per database and per refresh
 * worker, and a small ring of failed manual refreshes.  Protocol: every
 * field of DtShared is read and written only under the spinlock, which is
 * never held across anything but plain loads and stores; latches are set
 * after releasing it.  A slot's owner process fills in its pid and latch
 * when it starts and clears them in a before_shmem_exit callback, so a slot
 * with a pid belongs to a live process.  A scheduler assigns a unit to a
 * refresh worker slot (state ASSIGNED) and sets its latch; the worker marks
 * it BUSY, runs it, marks it IDLE and sets the scheduler's latch.  The DTs
 * of ASSIGNED and BUSY slots are the ones being refreshed, which schedule.c
 * keeps out of new units: one refresh per DT at a time.  A scheduler that
 * finds every slot taken asks an idle worker of another database to quit,
 * and a scheduler that exits asks its own idle workers to, so that no
 * database waits long for a slot another one does not use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "scheduler.h"

#define DT_MAX_DATABASES	64
#define DT_MAX_UNIT			64
#define DT_FAILURE_RING		32
#define DT_MESSAGE_LEN		512

#define WORKER_IDLE_TIMEOUT_MS	(30 * 1000)
#define NO_EXTENSION_RETRY_US	(300 * USECS_PER_SEC)
#define RESTART_BACKOFF_US		(5 * USECS_PER_SEC)

typedef enum WorkerState
{
	WORKER_FREE,				/* no process */
	WORKER_IDLE,				/* alive, waiting for a unit */
	WORKER_ASSIGNED,			/* a unit waits for the worker */
	WORKER_BUSY					/* refreshing */
} WorkerState;

typedef struct DbSlot
{
	Oid			dboid;			/* InvalidOid: slot unused */
	pid_t		pid;			/* its scheduler, 0 if none */
	Latch	   *latch;
	bool		no_extension;	/* its scheduler found no extension */
	TimestampTz not_before;		/* do not start a scheduler before */
} DbSlot;

typedef struct WorkerSlot
{
	WorkerState state;
	Oid			dboid;
	pid_t		pid;
	Latch	   *latch;
	TimestampTz since;			/* of the current state */
	bool		quit;			/* asked to exit when idle */
	int			nrelids;
	Oid			relids[DT_MAX_UNIT];
} WorkerSlot;

typedef struct FailureRecord
{
	Oid			dboid;
	Oid			relid;
	TimestampTz start;
	TimestampTz end;
	char		trigger[16];
	char		message[DT_MESSAGE_LEN];
} FailureRecord;

typedef struct DtShared
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	DbSlot		dbs[DT_MAX_DATABASES];
	int			nfailures;
	FailureRecord failures[DT_FAILURE_RING];
	int			nworkers;
	WorkerSlot	workers[FLEXIBLE_ARRAY_MEMBER];
} DtShared;

static DtShared *shared = NULL;

/* Settings, defined by _PG_init (pg_dynamic_tables.c). */
bool		workers_scheduler_enabled = true;
int			workers_max_refreshes = 2;
int			workers_history_size = 1000;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Databases whose scheduler should look again at commit; -1: launcher. */
static bool wake_scheduler_at_commit = false;
static bool wake_launcher_at_commit = false;

PGDLLEXPORT void dt_launcher_main(Datum arg);
PGDLLEXPORT void dt_scheduler_main(Datum arg);
PGDLLEXPORT void dt_refresh_worker_main(Datum arg);

/*
 * begin_transaction
 *		StartTransactionCommand with the clock set first.  A background
 *		worker runs no client statements, which are what set the statement
 *		start time, and a transaction takes its timestamp (now(),
 *		CURRENT_TIMESTAMP in a defining query) from it: without this, a
 *		worker's refreshes would all see the time the worker started.
 */
static void
begin_transaction(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
}

/* shared_size: the size of DtShared, with a slot per refresh worker. */
static Size
shared_size(void)
{
	return add_size(offsetof(DtShared, workers),
					mul_size(sizeof(WorkerSlot), workers_max_refreshes));
}

/* workers_shmem_request: ask for DtShared's shared memory. */
static void
workers_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
}

/* workers_shmem_startup: attach to DtShared, or make it (postmaster). */
static void
workers_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("pg_dynamic_tables", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_size());
		SpinLockInit(&shared->mutex);
		shared->nworkers = workers_max_refreshes;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* workers_xact_callback: wake the scheduler or launcher once committed. */
static void
workers_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && shared != NULL)
	{
		Latch	   *latch = NULL;
		int			i;

		SpinLockAcquire(&shared->mutex);
		for (i = 0; i < DT_MAX_DATABASES; i++)
		{
			DbSlot	   *db = &shared->dbs[i];

			if (db->dboid != MyDatabaseId)
				continue;
			if (wake_launcher_at_commit)
			{
				db->no_extension = false;
				db->not_before = 0;
			}
			if (wake_scheduler_at_commit)
				latch = db->latch;
		}
		if (wake_launcher_at_commit && latch == NULL)
			latch = shared->launcher_latch;
		SpinLockRelease(&shared->mutex);
		if (latch != NULL)
			SetLatch(latch);
		if (wake_launcher_at_commit && shared->launcher_latch != NULL)
			SetLatch(shared->launcher_latch);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		wake_scheduler_at_commit = wake_launcher_at_commit = false;
}

/*
 * workers_init
 *		From _PG_init, once the settings are defined: shared memory and the
 *		launcher.
 */
void
workers_init(void)
{
	BackgroundWorker worker;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = workers_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = workers_shmem_startup;
	RegisterXactCallback(workers_xact_callback, NULL);

	/* pg_upgrade's server restores the schema: nothing to schedule */
	if (IsBinaryUpgrade)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_dynamic_tables");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "dt_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_dynamic_tables launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_dynamic_tables launcher");
	RegisterBackgroundWorker(&worker);
}

/* workers_wake_scheduler: have this database's scheduler look again at commit. */
void
workers_wake_scheduler(void)
{
	wake_scheduler_at_commit = true;
}

/* workers_extension_created: start this database's scheduler at commit. */
void
workers_extension_created(void)
{
	wake_launcher_at_commit = true;
}

/*
 * workers_release_database
 *		DROP DATABASE, renaming it or copying it as a template need it free
 *		of connections: stop its workers and do not restart them for a
 *		while.  PostgreSQL waits a few seconds for them to go.
 */
void
workers_release_database(Oid dboid)
{
	List	   *pids = NIL;
	ListCell   *lc;
	int			i;

	if (shared == NULL || !OidIsValid(dboid))
		return;
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		if (shared->dbs[i].dboid != dboid)
			continue;
		shared->dbs[i].not_before = GetCurrentTimestamp() + 30 * USECS_PER_SEC;
		if (shared->dbs[i].pid != 0)
			pids = lappend_int(pids, shared->dbs[i].pid);
	}
	for (i = 0; i < shared->nworkers; i++)
	{
		if (shared->workers[i].dboid == dboid && shared->workers[i].pid != 0)
			pids = lappend_int(pids, shared->workers[i].pid);
	}
	SpinLockRelease(&shared->mutex);
	foreach(lc, pids)
		kill(lfirst_int(lc), SIGTERM);
}

/*
 * workers_report_failure
 *		Called while an error propagates out of a manual refresh: keep its
 *		message (or message, if not NULL) for the scheduler to record in
 *		the history, since the failing transaction will not commit.  The
 *		oldest is dropped when more than DT_FAILURE_RING wait.
 */
void
workers_report_failure(Oid relid, const char *trigger, TimestampTz start, const char *message)
{
	ErrorData  *edata;
	FailureRecord *f;
	Latch	   *latch = NULL;
	int			i;

	if (shared == NULL)
		return;
	edata = CopyErrorData();
	SpinLockAcquire(&shared->mutex);
	if (shared->nfailures == DT_FAILURE_RING)
	{
		memmove(&shared->failures[0], &shared->failures[1],
				sizeof(FailureRecord) * (DT_FAILURE_RING - 1));
		shared->nfailures--;
	}
	f = &shared->failures[shared->nfailures++];
	f->dboid = MyDatabaseId;
	f->relid = relid;
	f->start = start;
	f->end = GetCurrentTimestamp();
	strlcpy(f->trigger, trigger, sizeof(f->trigger));
	strlcpy(f->message, message ? message : edata->message ? edata->message : "unknown error",
			sizeof(f->message));
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		if (shared->dbs[i].dboid == MyDatabaseId)
			latch = shared->dbs[i].latch;
	}
	SpinLockRelease(&shared->mutex);
	FreeErrorData(edata);
	if (latch != NULL)
		SetLatch(latch);
}

/* ---------------------------------------------------------------------
 * Launcher
 * ---------------------------------------------------------------------
 */

/* database_list: the databases that accept connections. */
static List *
database_list(MemoryContext cxt)
{
	List	   *dbs = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	begin_transaction();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;

		if (!db->datallowconn || db->datistemplate || db->datconnlimit == -2)
			continue;
		old = MemoryContextSwitchTo(cxt);
		dbs = lappend_oid(dbs, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dbs;
}

/* start_worker: register a dynamic background worker. */
static bool
start_worker(const char *function, const char *type, Datum arg)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	worker.bgw_main_arg = arg;
	worker.bgw_notify_pid = MyProcPid;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_dynamic_tables");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_dynamic_tables %s", type);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_dynamic_tables %s", type);
	return RegisterDynamicBackgroundWorker(&worker, &handle);
}

/*
 * launch_schedulers
 *		Start a scheduler for every database that has none, unless it was
 *		found without the extension lately or its last one just started.
 */
static void
launch_schedulers(MemoryContext cxt)
{
	List	   *dbs = database_list(cxt);
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;
	int			i;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		DbSlot	   *db = &shared->dbs[i];

		if (OidIsValid(db->dboid) && db->pid == 0 && !list_member_oid(dbs, db->dboid))
			memset(db, 0, sizeof(DbSlot));
	}
	SpinLockRelease(&shared->mutex);

	foreach(lc, dbs)
	{
		Oid			dboid = lfirst_oid(lc);
		DbSlot	   *slot = NULL;
		bool		start = false;

		SpinLockAcquire(&shared->mutex);
		for (i = 0; i < DT_MAX_DATABASES && slot == NULL; i++)
		{
			if (shared->dbs[i].dboid == dboid)
				slot = &shared->dbs[i];
		}
		for (i = 0; i < DT_MAX_DATABASES && slot == NULL; i++)
		{
			if (!OidIsValid(shared->dbs[i].dboid))
			{
				slot = &shared->dbs[i];
				memset(slot, 0, sizeof(DbSlot));
				slot->dboid = dboid;
			}
		}
		if (slot != NULL && slot->pid == 0 && now >= slot->not_before)
		{
			start = true;
			/* the scheduler clears this when it finds the extension */
			slot->not_before = now + RESTART_BACKOFF_US;
		}
		SpinLockRelease(&shared->mutex);

		if (start && !start_worker("dt_scheduler_main", "scheduler", ObjectIdGetDatum(dboid)))
			ereport(LOG,
					(errmsg("pg_dynamic_tables could not start a scheduler for database %u", dboid),
					 errhint("Raise max_worker_processes.")));
	}
}

/*
 * dt_launcher_main
 *		Entry point of the launcher.
 */
void
dt_launcher_main(Datum arg)
{
	MemoryContext cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	SpinLockAcquire(&shared->mutex);
	shared->launcher_latch = MyLatch;
	SpinLockRelease(&shared->mutex);

	/* scratch memory, reset every loop */
	cxt = AllocSetContextCreate(TopMemoryContext, "pg_dynamic_tables launcher", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(cxt);
		launch_schedulers(cxt);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10 * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ---------------------------------------------------------------------
 * Scheduler
 * ---------------------------------------------------------------------
 */

static int	my_db_slot = -1;

/* scheduler_exit: free the database slot and tell the launcher. */
static void
scheduler_exit(int code, Datum arg)
{
	SpinLockAcquire(&shared->mutex);
	shared->dbs[my_db_slot].pid = 0;
	shared->dbs[my_db_slot].latch = NULL;
	SpinLockRelease(&shared->mutex);
	if (shared->launcher_latch != NULL)
		SetLatch(shared->launcher_latch);
}

/*
 * scheduling_enabled
 *		pg_dynamic_tables.enabled, with this database's ALTER DATABASE ...
 *		SET, which a running process does not otherwise see change.
 */
static bool
scheduling_enabled(void)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(MyDatabaseId)};
	bool		enabled = workers_scheduler_enabled;

	SPI_connect();
	if (SPI_execute_with_args("SELECT substr(c, length('pg_dynamic_tables.enabled=') + 1)"
							  " FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) c"
							  " WHERE s.setdatabase = $1 AND s.setrole = 0"
							  " AND c LIKE 'pg\\_dynamic\\_tables.enabled=%'",
							  1, types, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		(void) parse_bool(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), &enabled);
	SPI_finish();
	return enabled;
}

/* record_failures: write the failed manual refreshes of this database. */
static void
record_failures(void)
{
	FailureRecord mine[DT_FAILURE_RING];
	int			n = 0;
	int			i;
	int			kept = 0;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nfailures; i++)
	{
		if (shared->failures[i].dboid == MyDatabaseId)
			mine[n++] = shared->failures[i];
		else
			shared->failures[kept++] = shared->failures[i];
	}
	shared->nfailures = kept;
	SpinLockRelease(&shared->mutex);

	for (i = 0; i < n; i++)
		catalog_insert_history(mine[i].relid, mine[i].trigger, mine[i].start, mine[i].end, 0,
							   NULL, "FAILED", mine[i].message);
}

/* busy_relids: the DTs this database's refresh workers are refreshing. */
static List *
busy_relids(void)
{
	List	   *busy = NIL;
	TimestampTz now = GetCurrentTimestamp();
	int			i;
	int			k;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];

		/* a worker that never came up gives its unit back */
		if (w->state == WORKER_ASSIGNED && w->pid == 0 && now - w->since > 30 * USECS_PER_SEC)
			w->state = WORKER_FREE;
		if (w->dboid != MyDatabaseId || (w->state != WORKER_ASSIGNED && w->state != WORKER_BUSY))
			continue;
		for (k = 0; k < w->nrelids; k++)
			busy = lappend_oid(busy, w->relids[k]);
	}
	SpinLockRelease(&shared->mutex);
	return busy;
}

/*
 * ask_idle_worker_to_quit
 *		Ask one idle refresh worker of another database (dboid invalid) or
 *		all idle workers of dboid to exit, freeing their slots.
 */
static void
ask_idle_worker_to_quit(Oid dboid)
{
	List	   *latches = NIL;
	ListCell   *lc;
	int			i;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];

		if (w->state != WORKER_IDLE || w->latch == NULL)
			continue;
		if (OidIsValid(dboid) ? w->dboid != dboid : w->dboid == MyDatabaseId)
			continue;
		w->quit = true;
		latches = lappend(latches, w->latch);
		if (!OidIsValid(dboid))
			break;
	}
	SpinLockRelease(&shared->mutex);
	foreach(lc, latches)
		SetLatch((Latch *) lfirst(lc));
}

/*
 * dispatch
 *		Give a unit to an idle refresh worker of this database, or start one
 *		in a free slot.  Returns false if every slot is taken.
 */
static bool
dispatch(List *unit)
{
	WorkerSlot *w = NULL;
	Latch	   *latch = NULL;
	bool		start = false;
	int			index = -1;
	int			i;
	ListCell   *lc;

	if (list_length(unit) > DT_MAX_UNIT)
	{
		ereport(WARNING,
				(errmsg("dynamic table \"%s\" reads more than %d dynamic tables; it is not refreshed on schedule",
						get_rel_name(llast_oid(unit)), DT_MAX_UNIT)));
		return true;
	}
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nworkers && w == NULL; i++)
	{
		if (shared->workers[i].state == WORKER_IDLE && shared->workers[i].dboid == MyDatabaseId)
			w = &shared->workers[i];
	}
	for (i = 0; i < shared->nworkers && w == NULL; i++)
	{
		if (shared->workers[i].state == WORKER_FREE)
		{
			w = &shared->workers[i];
			w->dboid = MyDatabaseId;
			w->pid = 0;
			w->latch = NULL;
			w->quit = false;
			start = true;
			index = i;
		}
	}
	if (w != NULL)
	{
		w->state = WORKER_ASSIGNED;
		w->since = GetCurrentTimestamp();
		w->nrelids = 0;
		foreach(lc, unit)
			w->relids[w->nrelids++] = lfirst_oid(lc);
		latch = w->latch;
	}
	SpinLockRelease(&shared->mutex);

	if (w == NULL)
	{
		ask_idle_worker_to_quit(InvalidOid);
		return false;
	}
	if (latch != NULL)
		SetLatch(latch);
	if (start && !start_worker("dt_refresh_worker_main", "refresh worker", Int32GetDatum(index)))
	{
		SpinLockAcquire(&shared->mutex);
		w->state = WORKER_FREE;
		SpinLockRelease(&shared->mutex);
		return false;
	}
	return true;
}

/*
 * housekeeping
 *		Run work(arg) in a transaction of its own that commits at once, if
 *		the extension is still installed.  Housekeeping: an error is
 *		reported, and the caller goes on.
 */
static void
housekeeping(void (*work) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;

	begin_transaction();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		if (OidIsValid(get_extension_oid(DT_EXTENSION_NAME, true)))
			work(arg);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
}

/* trim_history: keep refresh_history_size rows per DT. */
static void
trim_history(void)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(workers_history_size)};

	SPI_connect();
	catalog_exec("DELETE FROM " DT_INTERNAL_SCHEMA ".refresh_log r USING"
				 " (SELECT refresh_id FROM (SELECT refresh_id, row_number() OVER"
				 "   (PARTITION BY relid ORDER BY refresh_id DESC) AS n"
				 "   FROM " DT_INTERNAL_SCHEMA ".refresh_log) x WHERE n > $1) old"
				 " WHERE r.refresh_id = old.refresh_id",
				 1, types, values, NULL, SPI_OK_DELETE);
	SPI_finish();
}

/*
 * release_capture
 *		Release the capture no DT needs any more that the users who dropped
 *		DTs could not (capture_release_unused_inputs); run by housekeeping.
 */
static void
release_capture(void *arg)
{
	capture_release_unused_inputs(true);
}

/*
 * scheduler_tick
 *		One pass, in one transaction: record failures, plan, dispatch; every
 *		ten seconds also trim the history and, in a transaction of its own,
 *		release unused capture.  Returns when to look again.
 */
static TimestampTz
scheduler_tick(bool *extension_gone, TimestampTz *last_trim)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wake = now + USECS_PER_SEC;

	begin_transaction();
	PushActiveSnapshot(GetTransactionSnapshot());
	*extension_gone = !OidIsValid(get_extension_oid(DT_EXTENSION_NAME, true));
	if (!*extension_gone)
	{
		record_failures();
		if (scheduling_enabled() && catalog_version_current())
		{
			ListCell   *lc;

			foreach(lc, schedule_plan(schedule_load(), now, busy_relids(), &wake))
			{
				if (!dispatch((List *) lfirst(lc)))
					break;
			}
		}
		if (now - *last_trim > 10 * USECS_PER_SEC)
			trim_history();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (!*extension_gone && now - *last_trim > 10 * USECS_PER_SEC)
	{
		housekeeping(release_capture, NULL);
		*last_trim = now;
	}
	return wake;
}

/*
 * dt_scheduler_main
 *		Entry point of a database's scheduler; arg is the database OID.
 */
void
dt_scheduler_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	MemoryContext tick_cxt;
	TimestampTz last_trim = 0;
	int			i;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("pg_dynamic_tables scheduler");

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		if (shared->dbs[i].dboid == dboid)
			my_db_slot = i;
	}
	if (my_db_slot >= 0 && shared->dbs[my_db_slot].pid == 0)
	{
		shared->dbs[my_db_slot].pid = MyProcPid;
		shared->dbs[my_db_slot].latch = MyLatch;
	}
	else
		my_db_slot = -1;
	SpinLockRelease(&shared->mutex);
	if (my_db_slot < 0)
		proc_exit(0);			/* another scheduler got here first */
	before_shmem_exit(scheduler_exit, (Datum) 0);

	/*
	 * A tick runs in transactions of its own, and what it allocates there
	 * goes with them (CommitTransactionCommand leaves TopMemoryContext
	 * current).  tick_cxt, reset before every tick, holds the little the loop
	 * allocates outside a transaction, before the tick's first.
	 */
	tick_cxt = AllocSetContextCreate(TopMemoryContext, "pg_dynamic_tables scheduler tick",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		bool		gone;
		TimestampTz wake;
		long		sleep_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(tick_cxt);
		MemoryContextSwitchTo(tick_cxt);
		wake = scheduler_tick(&gone, &last_trim);
		if (gone)
		{
			ask_idle_worker_to_quit(MyDatabaseId);
			SpinLockAcquire(&shared->mutex);
			shared->dbs[my_db_slot].no_extension = true;
			shared->dbs[my_db_slot].not_before = GetCurrentTimestamp() + NO_EXTENSION_RETRY_US;
			SpinLockRelease(&shared->mutex);
			proc_exit(0);
		}
		SpinLockAcquire(&shared->mutex);
		shared->dbs[my_db_slot].no_extension = false;
		shared->dbs[my_db_slot].not_before = 0;
		SpinLockRelease(&shared->mutex);

		sleep_ms = (long) ((wake - GetCurrentTimestamp()) / 1000);
		sleep_ms = Max(sleep_ms, 10);
		sleep_ms = Min(sleep_ms, 1000);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ---------------------------------------------------------------------
 * Refresh workers
 * ---------------------------------------------------------------------
 */

static int	my_worker_slot = -1;

/* refresh_worker_exit: free the worker slot and tell the scheduler. */
static void
refresh_worker_exit(int code, Datum arg)
{
	Latch	   *latch = NULL;
	int			i;

	SpinLockAcquire(&shared->mutex);
	shared->workers[my_worker_slot].state = WORKER_FREE;
	shared->workers[my_worker_slot].pid = 0;
	shared->workers[my_worker_slot].latch = NULL;
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		if (shared->dbs[i].dboid == MyDatabaseId)
			latch = shared->dbs[i].latch;
	}
	SpinLockRelease(&shared->mutex);
	if (latch != NULL)
		SetLatch(latch);
}

/* A unit's DTs, for compact_unit_logs_work. */
typedef struct UnitRelids
{
	Oid		   *relids;
	int			n;
} UnitRelids;

/* compact_unit_logs_work: see compact_unit_logs. */
static void
compact_unit_logs_work(void *arg)
{
	UnitRelids *unit = (UnitRelids *) arg;
	List	   *inputs = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < unit->n; i++)
	{
		if (get_rel_name(unit->relids[i]) == NULL)
			continue;
		foreach(lc, catalog_input_relids(unit->relids[i]))
			inputs = list_append_unique_oid(inputs, lfirst_oid(lc));
	}
	capture_compact_logs(inputs);
}

/*
 * compact_unit_logs
 *		Give back the pages of the change logs the unit reads that its
 *		refresh emptied (capture_compact_logs).
 */
static void
compact_unit_logs(Oid *relids, int n)
{
	UnitRelids	unit = {relids, n};

	housekeeping(compact_unit_logs_work, &unit);
}

/*
 * run_unit
 *		Refresh a unit in its own transaction, then compact the logs it
 *		read in another.  Its DTs may have been dropped since it was
 *		planned: those are left out.
 */
static void
run_unit(Oid *relids, int n)
{
	List	   *unit = NIL;
	int			i;

	begin_transaction();
	PushActiveSnapshot(GetTransactionSnapshot());
	for (i = 0; i < n; i++)
	{
		if (get_rel_name(relids[i]) != NULL)
			unit = lappend_oid(unit, relids[i]);
	}
	if (unit != NIL && OidIsValid(get_extension_oid(DT_EXTENSION_NAME, true)))
	{
		pgstat_report_activity(STATE_RUNNING, psprintf("refresh of %s", get_rel_name(llast_oid(unit))));
		refresh_scheduled_unit(unit);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();

	/*
	 * Functions of the DTs' queries ran here as their owners: a session-level
	 * advisory lock one of them took must not stay with this worker, which
	 * serves every owner of the database (temporary tables, cursors WITH HOLD
	 * and LISTEN are refused to them already, and their settings end with the
	 * refresh).
	 */
	LockReleaseSession(USER_LOCKMETHOD);
	compact_unit_logs(relids, n);
	/* a busy worker never exits: autovacuum must see its dead rows now */
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * dt_refresh_worker_main
 *		Entry point of a refresh worker; arg is its slot.
 */
void
dt_refresh_worker_main(Datum arg)
{
	Oid			dboid;
	TimestampTz idle_since = GetCurrentTimestamp();

	my_worker_slot = DatumGetInt32(arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	SpinLockAcquire(&shared->mutex);
	dboid = shared->workers[my_worker_slot].dboid;
	SpinLockRelease(&shared->mutex);
	before_shmem_exit(refresh_worker_exit, (Datum) 0);
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("pg_dynamic_tables refresh worker");

	SpinLockAcquire(&shared->mutex);
	shared->workers[my_worker_slot].pid = MyProcPid;
	shared->workers[my_worker_slot].latch = MyLatch;
	SpinLockRelease(&shared->mutex);

	for (;;)
	{
		Oid			relids[DT_MAX_UNIT];
		int			n = 0;
		Latch	   *scheduler = NULL;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		SpinLockAcquire(&shared->mutex);
		if (shared->workers[my_worker_slot].state == WORKER_ASSIGNED)
		{
			WorkerSlot *w = &shared->workers[my_worker_slot];

			n = w->nrelids;
			memcpy(relids, w->relids, sizeof(Oid) * n);
			w->state = WORKER_BUSY;
			w->since = GetCurrentTimestamp();
		}
		SpinLockRelease(&shared->mutex);

		if (n > 0)
		{
			run_unit(relids, n);
			SpinLockAcquire(&shared->mutex);
			shared->workers[my_worker_slot].state = WORKER_IDLE;
			shared->workers[my_worker_slot].since = GetCurrentTimestamp();
			for (i = 0; i < DT_MAX_DATABASES; i++)
			{
				if (shared->dbs[i].dboid == MyDatabaseId)
					scheduler = shared->dbs[i].latch;
			}
			SpinLockRelease(&shared->mutex);
			if (scheduler != NULL)
				SetLatch(scheduler);
			idle_since = GetCurrentTimestamp();
			continue;
		}
		if (shared->workers[my_worker_slot].quit ||
			TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(), WORKER_IDLE_TIMEOUT_MS))
			proc_exit(0);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
