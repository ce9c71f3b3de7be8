/*-------------------------------------------------------------------------
 *
 * workers.c
 *		The background workers: one launcher for the server, and refresh
 *		workers, each of which schedules and refreshes one database's
 *		dynamic tables while it lives.
 *
 *	launcher	one per server, registered at startup and restarted by the
 *				postmaster if it dies.  It knows each database only by its
 *				slot in shared memory: when its next unit is due, how many
 *				due units no worker took, whether it has the extension.  It
 *				starts a refresh worker in the database whose due work is
 *				the earliest and has no worker to take it, in time for it
 *				(by what a start costs, measured, and earlier when more
 *				databases are due around then than there are slots:
 *				neediest_database); when all
 *				pg_dynamic_tables.max_concurrent_refreshes slots are taken,
 *				it asks an idle worker of another database to exit, so
 *				that the slots go where the deadlines are, and it marks the
 *				database waiting (shown by dt.dynamic_tables) when every
 *				worker is busy.
 *	refresh worker  at most pg_dynamic_tables.max_concurrent_refreshes in the
 *				server, each connected to one database.  It reads that
 *				database's schedule (again only when it changed, after a
 *				refresh its watch does not describe, or every ten
 *				seconds), plans units
 *				(schedule.c), claims one no other worker runs, refreshes it
 *				in a transaction of its own, and publishes in its
 *				database's slot when the next unit is due and how many due
 *				units it left.  It sleeps until then or until a commit
 *				wakes it (below), exits
 *				after thirty idle seconds or when the launcher asks, and
 *				is started again when its database's next unit is due.  A
 *				worker started for a unit runs it as soon as it is up, due
 *				or not yet: it does not hold a slot idle.  It
 *				also writes the history rows of failed manual refreshes
 *				(the failing transaction cannot), trims the history, and
 *				releases the capture that roles who dropped DTs could not.
 *
 * So the server needs 1 + max_concurrent_refreshes background workers
 * whatever the number of databases (up to DT_MAX_DATABASES of them); no
 * database holds a slot while it has nothing due.
 *
 * Shared memory (DtShared) holds a slot per database and per refresh
 * worker, and a small ring of failed manual refreshes.  Protocol: every
 * field of DtShared is read and written only under the spinlock, which is
 * never held across anything but plain loads and stores; latches are set
 * and signals sent after releasing it.  The launcher takes a free worker
 * slot for a database (STARTING) and starts the process, which fills in
 * its pid and latch (IDLE) and clears the slot in a before_shmem_exit
 * callback.  A worker claims a unit by writing its DTs into its slot
 * (BUSY) after checking that no other worker of its database holds one of
 * them: one refresh per DT at a time.  A transaction that changes the
 * schedule of a database (a DT created, altered, suspended, resumed,
 * dropped; the extension created; a failed manual refresh to record)
 * bumps the database's generation at commit and wakes its idle workers and
 * the launcher: the workers' cache invalidation, which reaches databases
 * that have no worker too.  The watches (below) of the units that neither
 * hold nor read a DT it changed are kept across it (schedule_changed).  A reload that turns pg_dynamic_tables.enabled
 * on or off for the server bumps every database's (the launcher, which
 * alone sees the server's setting, publishes it: scheduling_enabled).
 * dt.drop_dynamic_table, dt.suspend and
 * dt.alter_dynamic_table cancel (SIGINT) the refresh of their DT that a
 * worker runs, and pg_dynamic_tables.refresh_timeout bounds every
 * scheduled refresh, so that nobody waits for ever behind a runaway one.
 *
 * A unit found locked by another refresh (a manual dt.refresh in an open
 * transaction), or reading a table that DDL or LOCK TABLE holds, is not
 * waited for (a worker waiting would serve nothing else of the server): it
 * is tried again after a back-off that doubles from 100 ms up to a second,
 * and its history keeps one SKIPPED row per stretch.
 *
 * Commits drive the scheduler.  A database's slot counts the commits that
 * wrote a captured table, in DT_BUCKETS buckets by the table's OID
 * (changes), and those between their pre-commit and their commit
 * (in_flight): the capture trigger notes the table (workers_note_write),
 * the transaction callback counts.  After a unit's scheduled refresh that
 * left every DT of it current (settled), its worker keeps a Watch: the
 * buckets of the tables the unit reads and their changes, read before the
 * refresh's snapshot (read_unit_inputs says why that is safe).  While they
 * do not move and none is in flight, the unit is current: it is not due
 * (schedule_plan asks unit_is_current), no worker needs to wake for it,
 * and dt.dynamic_tables shows it current now (workers_fresh_as_of).  The
 * first writer into a bucket a current unit watches (quiet) marks the
 * units still current as current until then, and wakes the database's
 * idle workers, or tells the launcher when the first of them will be due,
 * so that a database nobody writes costs no worker at all.
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
#include "common/hashfn.h"
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
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "scheduler.h"

#define DT_MAX_DATABASES	64
#define DT_MAX_WORKERS		64	/* max_concurrent_refreshes at most */
#define DT_MAX_UNIT			64
#define DT_BUCKETS			64	/* change counters per database: bits of a
								 * uint64 */
#define DT_MAX_WATCHES		1024	/* units whose inputs are watched */
#define DT_FAILURE_RING		32
#define DT_MAX_PREPARED		64	/* prepared transactions whose writes are
								 * known */
#define DT_MESSAGE_LEN		512
#define DT_MAX_FAILED_BUILDS 16

#define WORKER_IDLE_TIMEOUT_US	(30 * USECS_PER_SEC)
#define WORKER_START_TIMEOUT_US (30 * USECS_PER_SEC)
#define NO_EXTENSION_RETRY_US	(300 * USECS_PER_SEC)
#define HOUSEKEEPING_US			(10 * USECS_PER_SEC)
#define LAUNCHER_NAP_US			(10 * USECS_PER_SEC)
#define SHORT_OF_SLOTS_US		(60 * USECS_PER_SEC)
#define BACKOFF_MIN_US			(100 * 1000)
#define BACKOFF_MAX_US			(USECS_PER_SEC)
#define BACKOFF_FAILED_MAX_US	(10 * USECS_PER_SEC)
#define COMPACT_INTERVAL_US		(USECS_PER_SEC)
#define COMPACT_RETRY_MAX_US	(30 * USECS_PER_SEC)
/*
 * A unit one of whose recent refreshes (its creation included) took this
 * long or more, or that was never refreshed, is long (claim_unit): it does
 * not take the last worker of the server that is not running a long
 * refresh.  Five seconds: refreshes of a few seconds, such as the full
 * ones after a bulk load, still run side by side, and a table behind such
 * refreshes waits seconds, not the minutes or hours of a runaway query.
 */
#define LONG_REFRESH_US			(5 * USECS_PER_SEC)
/*
 * What a worker's start costs (a connection, the schedule read, its first
 * refresh's statements prepared) is measured (DtShared.start_cost_us);
 * until it is, it is taken to be this, and it is held within these bounds.
 */
#define START_COST_INITIAL_US	(200 * 1000)
#define START_COST_MIN_US		(10 * 1000)
#define START_COST_MAX_US		(USECS_PER_SEC)

typedef enum WorkerState
{
	WORKER_FREE,				/* no process */
	WORKER_STARTING,			/* started by the launcher, not yet up */
	WORKER_IDLE,				/* up, refreshing nothing */
	WORKER_BUSY,				/* refreshing the unit in relids */
	WORKER_LEAVING				/* exiting: not its database's any more */
} WorkerState;

typedef struct DbSlot
{
	Oid			dboid;			/* InvalidOid: slot unused */
	bool		no_extension;	/* a worker found no extension in it */
	TimestampTz not_before;		/* start no worker in it before */
	TimestampTz next_due;		/* its next unit no worker runs; 0: now */
	int			waiting;		/* due units its workers could not take */
	uint32		generation;		/* bumped when its schedule changes */
	TimestampTz starved_since;	/* due work waits for a worker slot; 0: no */
	bool		no_bgworker;	/* ... because max_worker_processes is full */
	/* commits that wrote to a captured table, by bucket of its OID */
	uint64		changes[DT_BUCKETS];
	/* writers between pre-commit and commit (or prepared), by bucket */
	uint32		in_flight[DT_BUCKETS];
	/* commits that wrote a rebuild marker (a bulk load, TRUNCATE), by bucket */
	uint32		rebuilds[DT_BUCKETS];
	/* buckets a watch of a current unit reads since its last change */
	uint64		quiet;
	/* how late its workers recently claimed units, a decaying maximum */
	int64		start_delay_us;
	/* a long unit waits: every other worker runs one (claim_unit); 0: no */
	TimestampTz held_since;
	/* commits of refreshes that left a state to be built apart */
	uint32		build_requests;
	/* ... as of the last look of a worker that found none to build */
	uint32		build_looked;
} DbSlot;

/*
 * A unit whose last scheduled refresh left it current, and the changes its
 * inputs had then: while they have no more, it is current still.
 */
typedef struct Watch
{
	Oid			dboid;			/* InvalidOid: slot unused */
	Oid			relid;			/* the unit's last DT */
	uint32		generation;		/* its database's, before the refresh */
	uint64		mask;			/* the buckets of the tables it reads */
	uint64		dts;			/* the buckets (of their OIDs) of its DTs and
								 * of the DTs they read, directly or not */
	uint64		seen;			/* their changes, before the refresh */
	TimestampTz verified_at;	/* known current as of */
	int64		due_after;		/* due this long after it is not current */
	uint64		rebuilds;		/* their rebuilds, before the refresh: more
								 * since, and it is due at once */
} Watch;

/* Room for the name of the function that cancels a refresh (dt.suspend). */
#define CANCELLER_LEN 32

typedef struct WorkerSlot
{
	WorkerState state;
	Oid			dboid;
	pid_t		pid;
	Latch	   *latch;
	TimestampTz since;			/* of the current state */
	bool		quit;			/* asked to exit when idle */
	TimestampTz started_for;	/* STARTING: the due time it is started for */
	bool		long_refresh;	/* BUSY: its unit is long (LONG_REFRESH_US) */
	bool		held;			/* left a long unit for the last worker free
								 * (claim_unit) */
	Oid			building;		/* BUSY: the DT whose state it builds apart
								 * (build_state_when_idle), if any */
	int			nrelids;
	Oid			relids[DT_MAX_UNIT];
	char		cancelled_by[CANCELLER_LEN];	/* BUSY: the function that
												 * cancelled it
												 * (workers_cancel_refresh),
												 * or "" */
} WorkerSlot;

/*
 * A refresh worker's build of a DT's per-group state apart that failed
 * (build_state_when_idle): not tried again before REBUILD_RETRY_AFTER
 * refreshes of the DT came after its last refresh of then.
 */
typedef struct FailedBuild
{
	Oid			dboid;			/* InvalidOid: slot unused */
	Oid			relid;
	int64		refresh_id;
} FailedBuild;

typedef struct FailureRecord
{
	Oid			dboid;
	Oid			relid;
	TimestampTz start;
	TimestampTz end;
	char		trigger[16];
	char		message[DT_MESSAGE_LEN];
} FailureRecord;

/*
 * A prepared transaction that wrote captured tables: its writes are in
 * flight until COMMIT PREPARED or ROLLBACK PREPARED ends it.
 */
typedef struct PreparedWrites
{
	Oid			dboid;			/* InvalidOid: slot unused */
	uint64		buckets;		/* the buckets of the tables it wrote */
	char		gid[GIDSIZE];
} PreparedWrites;

typedef struct DtShared
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	DbSlot		dbs[DT_MAX_DATABASES];
	int			nfailures;
	FailureRecord failures[DT_FAILURE_RING];
	PreparedWrites prepared[DT_MAX_PREPARED];
	int			nfailed_builds; /* the next of failed_builds to reuse */
	FailedBuild failed_builds[DT_MAX_FAILED_BUILDS];
	int			nwatches;		/* high-water mark of watches in use */
	Watch		watches[DT_MAX_WATCHES];
	int64		start_cost_us;	/* a worker's start to its first refresh's
								 * end, a moving average */
	bool		slot_wanted;	/* the launcher waits for a worker to be idle */
	bool		server_enabled; /* pg_dynamic_tables.enabled for the server */
	bool		server_builds;	/* pg_dynamic_tables.build_state_apart is not
								 * off for the server */
	int			nworkers;
	WorkerSlot	workers[FLEXIBLE_ARRAY_MEMBER];
} DtShared;

static DtShared *shared = NULL;

/* In a refresh worker: its slot in shared->workers. */
static int	my_worker_slot = -1;

/*
 * In the launcher: the handle of the process it last started in each
 * worker slot (in TopMemoryContext), so that a slot whose worker left it
 * is taken again only once the process is gone (assign_worker).
 */
static BackgroundWorkerHandle *worker_handles[DT_MAX_WORKERS];

/*
 * In the launcher: how many worker slots had a process when its last start
 * of a worker failed for want of a background worker slot (-1 if none
 * did), and when: for SHORT_OF_SLOTS_US, no start is tried with as many.
 */
static int	failed_with = -1;
static TimestampTz failed_at = 0;

/* The unit this worker refreshed last (its last DT), and when that ended. */
static Oid	ran_last = InvalidOid;
static TimestampTz ran_last_end = 0;

/* Settings, defined by _PG_init (pg_dynamic_tables.c). */
bool		workers_scheduler_enabled = true;
int			workers_max_refreshes = 2;
int			workers_history_size = 1000;
int			workers_refresh_timeout = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* What this transaction's commit must tell the workers. */
static uint64 written_buckets = 0;	/* the buckets of tables it wrote */
static uint64 rebuild_buckets = 0;	/* ... a rebuild marker into their logs */
static bool precommitted = false;	/* counted in_flight at pre-commit */
static char *prepare_gid = NULL;	/* PREPARE TRANSACTION's, in
									 * TopMemoryContext */
static bool schedule_changed_at_commit = false;
static uint64 schedule_changed_dts = 0; /* the buckets of the DTs changed */
static bool extension_created_at_commit = false;
static bool build_wanted_at_commit = false; /* a state is to be built apart */

static bool build_apart_here(bool at_commit);
static bool scheduling_enabled(void);
static Oid	database_changed_at_commit = InvalidOid;

PGDLLEXPORT void dt_launcher_main(Datum arg);
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
		shared->start_cost_us = START_COST_INITIAL_US;
		shared->server_enabled = workers_scheduler_enabled;
		shared->server_builds = refresh_build_apart != DT_BUILD_APART_OFF;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* find_db: the slot of dboid, or NULL.  The caller holds the spinlock. */
static DbSlot *
find_db(Oid dboid)
{
	int			i;

	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		if (OidIsValid(dboid) && shared->dbs[i].dboid == dboid)
			return &shared->dbs[i];
	}
	return NULL;
}

/* bucket_of: relid's bucket among its database's change counters, as a bit. */
static uint64
bucket_of(Oid relid)
{
	return UINT64CONST(1) << (hash_uint32((uint32) relid) % DT_BUCKETS);
}

/* bucket_sum: the sum of counts over the buckets of mask. */
static uint64
bucket_sum(const uint32 *counts, uint64 mask)
{
	uint64		sum = 0;
	int			b;

	for (b = 0; b < DT_BUCKETS; b++)
	{
		if (mask & (UINT64CONST(1) << b))
			sum += counts[b];
	}
	return sum;
}

/*
 * watch_clean
 *		Has nothing that watch w's unit reads changed since its refresh: no
 *		commit counted in its buckets, none in flight, the schedule the
 *		same?  The caller holds the spinlock.
 */
static bool
watch_clean(DbSlot *db, Watch *w)
{
	uint64		changes = 0;
	int			b;

	if (w->generation != db->generation)
		return false;
	for (b = 0; b < DT_BUCKETS; b++)
	{
		if ((w->mask & (UINT64CONST(1) << b)) == 0)
			continue;
		if (db->in_flight[b] > 0)
			return false;
		changes += db->changes[b];
	}
	return changes == w->seen;
}

/* find_watch: the watch of relid in dboid, or NULL.  Spinlock held. */
static Watch *
find_watch(Oid dboid, Oid relid)
{
	int			i;

	for (i = 0; i < shared->nwatches; i++)
	{
		if (shared->watches[i].dboid == dboid && shared->watches[i].relid == relid)
			return &shared->watches[i];
	}
	return NULL;
}

/*
 * attached_workers
 *		How many workers db has, and whether one of them will take its due
 *		work (*ready: one is idle or starting, and not asked to exit).  The
 *		caller holds the spinlock.
 */
static int
attached_workers(DbSlot *db, bool *ready)
{
	int			attached = 0;
	int			i;

	*ready = false;
	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];

		if (w->dboid != db->dboid || w->state == WORKER_FREE || w->state == WORKER_LEAVING)
			continue;
		attached++;
		if (w->state != WORKER_BUSY && !w->quit)
			*ready = true;
	}
	return attached;
}

/*
 * running_long
 *		Is worker w running a long refresh: one claimed as long (claim_unit),
 *		or running for LONG_REFRESH_US already?  The caller holds the
 *		spinlock.
 */
static bool
running_long(WorkerSlot *w, TimestampTz now)
{
	return w->state == WORKER_BUSY && (w->long_refresh || now - w->since >= LONG_REFRESH_US);
}

/*
 * wake_for
 *		A unit of database db is due at due: the latches to set (at most
 *		DT_MAX_WORKERS + 1, after the spinlock is released) so that its idle
 *		workers plan again, or, if it has no worker ready (none, or all
 *		busy), the launcher learns when to start one.  Returns how many.
 *		The caller holds the spinlock.
 */
static int
wake_for(DbSlot *db, TimestampTz due, Latch **latches)
{
	bool		ready;
	int			n = 0;
	int			i;

	(void) attached_workers(db, &ready);
	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];

		if (w->dboid == db->dboid && w->state == WORKER_IDLE && w->latch != NULL)
			latches[n++] = w->latch;
	}
	if (!ready && due < db->next_due && shared->launcher_latch != NULL)
	{
		db->next_due = due;
		latches[n++] = shared->launcher_latch;
	}
	return n;
}

/*
 * writes_committing
 *		At pre-commit (or pre-prepare) of a transaction that wrote tables
 *		whose buckets are written_buckets: count it in flight in them, so
 *		that until its commit is counted no unit reading them looks
 *		current.  It is the first change a current unit sees (its buckets
 *		are quiet): the units still current are current as of now, before
 *		this commit is visible, and due in their lag less their lead: their
 *		database's idle workers are woken to plan, or, if it has none (no
 *		worker, or all busy), the launcher learns when to start one.
 */
static void
writes_committing(void)
{
	TimestampTz now = GetCurrentTimestamp();
	Latch	   *latches[DT_MAX_WORKERS + 1];
	int			n = 0;
	DbSlot	   *db;
	int			i;
	int			b;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL && (db->quiet & written_buckets) != 0)
	{
		TimestampTz due = DT_NOEND;

		for (i = 0; i < shared->nwatches; i++)
		{
			Watch	   *w = &shared->watches[i];

			if (w->dboid == db->dboid && (w->mask & db->quiet & written_buckets) != 0 &&
				watch_clean(db, w))
			{
				w->verified_at = now;
				due = Min(due, now + w->due_after);
			}
		}
		db->quiet &= ~written_buckets;
		n = wake_for(db, due, latches);
	}
	for (b = 0; db != NULL && b < DT_BUCKETS; b++)
	{
		if (written_buckets & (UINT64CONST(1) << b))
			db->in_flight[b]++;
	}
	SpinLockRelease(&shared->mutex);
	precommitted = db != NULL;
	for (i = 0; i < n; i++)
		SetLatch(latches[i]);
}

/*
 * writes_ended
 *		A transaction of database dboid counted in flight in buckets by
 *		writes_committing committed (counted in their changes now) or
 *		aborted.  The caller holds the spinlock.
 */
static void
writes_ended(Oid dboid, uint64 buckets, bool committed)
{
	DbSlot	   *db = find_db(dboid);
	int			b;

	for (b = 0; db != NULL && b < DT_BUCKETS; b++)
	{
		if ((buckets & (UINT64CONST(1) << b)) == 0)
			continue;
		if (db->in_flight[b] > 0)
			db->in_flight[b]--;
		if (committed)
			db->changes[b]++;
	}
}

/*
 * writes_rebuilt
 *		This transaction, just committed, wrote rebuild markers (a bulk load,
 *		TRUNCATE) into the logs of tables in rebuild_buckets: they are
 *		counted there (rebuilds), and the watched units reading them are due
 *		at once (unit_is_current), their next refresh being a full one that
 *		their lead does not foretell; their database's idle workers plan
 *		again.  A unit being refreshed now keeps the count its refresh
 *		started from (read_unit_inputs), so a rebuild committed while that
 *		refresh runs, which its snapshot does not see, makes it due at once
 *		after it, too.  A unit not watched is due by its data timestamp, at
 *		most its lag less its lead after its last refresh.
 */
static void
writes_rebuilt(void)
{
	TimestampTz now = GetCurrentTimestamp();
	Latch	   *latches[DT_MAX_WORKERS + 1];
	int			n = 0;
	bool		any = false;
	DbSlot	   *db;
	int			i;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	for (i = 0; db != NULL && i < DT_BUCKETS; i++)
	{
		if (rebuild_buckets & (UINT64CONST(1) << i))
			db->rebuilds[i]++;
	}
	for (i = 0; db != NULL && i < shared->nwatches; i++)
	{
		Watch	   *w = &shared->watches[i];

		if (w->dboid == db->dboid && (w->mask & rebuild_buckets) != 0)
			any = true;
	}
	if (any)
		n = wake_for(db, now, latches);
	SpinLockRelease(&shared->mutex);
	for (i = 0; i < n; i++)
		SetLatch(latches[i]);
}

/*
 * writes_prepared
 *		This transaction, counted in flight by writes_committing, is
 *		prepared as prepare_gid: keep its buckets for the COMMIT PREPARED or
 *		ROLLBACK PREPARED that ends it (workers_finish_prepared).  With
 *		DT_MAX_PREPARED kept already, its writes stay in flight until the
 *		server restarts: the units reading them are refreshed at their lag.
 */
static void
writes_prepared(void)
{
	int			i;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_PREPARED; i++)
	{
		PreparedWrites *p = &shared->prepared[i];

		if (OidIsValid(p->dboid))
			continue;
		p->dboid = MyDatabaseId;
		p->buckets = written_buckets;
		strlcpy(p->gid, prepare_gid, GIDSIZE);
		break;
	}
	SpinLockRelease(&shared->mutex);
}

/*
 * schedule_changed
 *		dboid's schedule changed: its workers must read it again, and one
 *		must look at it now (started if it has none).  Wakes its idle
 *		workers and the launcher.  Takes the spinlock.
 *
 *		The change was to the DTs in buckets dts (~0: anything): the
 *		watches of units that neither hold nor read one of them, directly
 *		or not, still say what they said, and move on to the new
 *		generation.  Before, every watch of the database was forgotten, and
 *		each of its units paid a NO_DATA refresh for any DT created,
 *		altered, suspended or resumed in it.  The DTs downstream of a
 *		changed one may now be due at other times (their lag is a function
 *		of their readers'): the worker that reads the schedule again gives
 *		the kept watches their new delay (rewatch).
 */
static void
schedule_changed(Oid dboid, bool extension_created, uint64 dts)
{
	Latch	   *latches[DT_MAX_WORKERS + 1];
	int			n = 0;
	DbSlot	   *db;
	int			i;

	SpinLockAcquire(&shared->mutex);
	db = find_db(dboid);
	if (db != NULL)
	{
		for (i = 0; i < shared->nwatches; i++)
		{
			Watch	   *w = &shared->watches[i];

			if (w->dboid == dboid && w->generation == db->generation && (w->dts & dts) == 0)
				w->generation++;
		}
		db->generation++;
		db->next_due = 0;
		db->held_since = 0;
		if (extension_created)
		{
			db->no_extension = false;
			db->not_before = 0;
		}
	}
	for (i = 0; i < shared->nworkers; i++)
	{
		if (shared->workers[i].dboid == dboid && shared->workers[i].state != WORKER_FREE &&
			shared->workers[i].latch != NULL)
			latches[n++] = shared->workers[i].latch;
	}
	if (shared->launcher_latch != NULL)
		latches[n++] = shared->launcher_latch;
	SpinLockRelease(&shared->mutex);
	for (i = 0; i < n; i++)
		SetLatch(latches[i]);
}

/*
 * builds_wanted
 *		At the commit of a refresh that left a per-group state to be built
 *		apart (build_apart_here): the idle workers of this database look for
 *		it (build_state_when_idle), or if it has none ready, the launcher
 *		starts one, as for a unit due now; a refresh worker's own refresh
 *		only counts it, since that worker is idle next.
 */
static void
builds_wanted(void)
{
	Latch	   *latches[DT_MAX_WORKERS + 1];
	int			n = 0;
	DbSlot	   *db;
	int			i;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
	{
		db->build_requests++;
		if (my_worker_slot < 0)
			n = wake_for(db, GetCurrentTimestamp(), latches);
	}
	SpinLockRelease(&shared->mutex);
	for (i = 0; i < n; i++)
		SetLatch(latches[i]);
}

/*
 * workers_xact_callback: tell the workers what this commit changed.
 *
 * The writes to captured tables are counted in flight at pre-commit and as
 * changes at commit, after PostgreSQL made them visible.  A prepared
 * transaction stays in flight, the units that read what it wrote refreshed
 * at their lag whatever changes, until its COMMIT PREPARED (counted as
 * changes then, after it made them visible) or ROLLBACK PREPARED ends it,
 * in whatever session (workers_finish_prepared).  A restart forgets it;
 * its COMMIT PREPARED then counts as a change of every table (ddl_guard.c,
 * workers_note_utility).
 */
static void
workers_xact_callback(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE) &&
		shared != NULL && written_buckets != 0)
		writes_committing();
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT) && precommitted)
	{
		SpinLockAcquire(&shared->mutex);
		writes_ended(MyDatabaseId, written_buckets, event == XACT_EVENT_COMMIT);
		SpinLockRelease(&shared->mutex);
		if (event == XACT_EVENT_COMMIT && rebuild_buckets != 0)
			writes_rebuilt();
	}
	if (event == XACT_EVENT_PREPARE && precommitted && prepare_gid != NULL)
		writes_prepared();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
	{
		written_buckets = rebuild_buckets = 0;
		precommitted = false;
		if (prepare_gid != NULL)
			pfree(prepare_gid);
		prepare_gid = NULL;
	}
	if (event == XACT_EVENT_COMMIT && shared != NULL &&
		(schedule_changed_at_commit || extension_created_at_commit))
		schedule_changed(MyDatabaseId, extension_created_at_commit,
						 extension_created_at_commit ? ~UINT64CONST(0) : schedule_changed_dts);
	if (event == XACT_EVENT_COMMIT && shared != NULL && OidIsValid(database_changed_at_commit))
		schedule_changed(database_changed_at_commit, false, ~UINT64CONST(0));
	if (event == XACT_EVENT_COMMIT && shared != NULL && build_wanted_at_commit)
		builds_wanted();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
		build_wanted_at_commit = false;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
	{
		schedule_changed_at_commit = extension_created_at_commit = false;
		schedule_changed_dts = 0;
		database_changed_at_commit = InvalidOid;
	}
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
	refresh_workers_build = build_apart_here;
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

/*
 * workers_wake_scheduler
 *		This database's schedule changes at commit: DT relid was created,
 *		altered, suspended, resumed, restored or dropped (or made a plain
 *		table).
 */
void
workers_wake_scheduler(Oid relid)
{
	schedule_changed_at_commit = true;
	schedule_changed_dts |= bucket_of(relid);
}

/*
 * workers_database_changed
 *		The settings of database dboid change (ALTER DATABASE ... SET, of
 *		pg_dynamic_tables.enabled say): its workers read its schedule again
 *		at commit.
 */
void
workers_database_changed(Oid dboid)
{
	database_changed_at_commit = dboid;
}

/*
 * workers_note_write
 *		From the capture trigger: this transaction wrote relid (a table
 *		that DTs read), a rebuild marker into its log if rebuild.  Its
 *		commit is counted in the table's bucket, and wakes the scheduler if
 *		a unit reading it was current; with a marker, the units reading it
 *		are due at once (writes_rebuilt).
 */
void
workers_note_write(Oid relid, bool rebuild)
{
	written_buckets |= bucket_of(relid);
	if (rebuild)
		rebuild_buckets |= bucket_of(relid);
}

/*
 * workers_note_utility
 *		A utility statement (DDL, GRANT, ...) ran: it might change what a
 *		DT's query gives without a write that is captured (DISABLE TRIGGER,
 *		a policy, a function replaced), so its commit counts as a change of
 *		every table.  Refresh workers' own statements (a refresh's, the
 *		truncation of emptied logs) are not counted.
 */
void
workers_note_utility(void)
{
	if (my_worker_slot < 0)
		written_buckets = ~UINT64CONST(0);
}

/*
 * workers_fresh_as_of
 *		A time as of which the scheduler knows DT relid (of this database)
 *		current, later than its data timestamp in the catalog perhaps, or 0
 *		if it knows none: now() (the transaction's start) when nothing its
 *		unit reads changed since its last scheduled refresh, or else the
 *		moment before the first such change.  dt.dynamic_tables shows it
 *		(dt_internal.fresh_as_of).
 */
TimestampTz
workers_fresh_as_of(Oid relid)
{
	TimestampTz as_of = 0;
	DbSlot	   *db;
	Watch	   *w;

	if (shared == NULL)
		return 0;
	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	w = db != NULL ? find_watch(db->dboid, relid) : NULL;
	if (w != NULL && watch_clean(db, w))
		as_of = GetCurrentTransactionStartTimestamp();
	else if (w != NULL && w->generation == db->generation)
		as_of = w->verified_at;
	SpinLockRelease(&shared->mutex);
	return as_of;
}

/*
 * workers_note_prepare
 *		PREPARE TRANSACTION gid ends this transaction: its writes stay in
 *		flight under that name.
 */
void
workers_note_prepare(const char *gid)
{
	if (prepare_gid != NULL)
		pfree(prepare_gid);
	prepare_gid = MemoryContextStrdup(TopMemoryContext, gid);
}

/*
 * workers_finish_prepared
 *		COMMIT PREPARED (committed) or ROLLBACK PREPARED of gid, in this
 *		database, is done: the writes it kept in flight are counted as
 *		changes now that they are visible, or forgotten.  Returns false if
 *		they were not known (prepared before a restart, or too many
 *		prepared): its caller counts a COMMIT PREPARED as a change of every
 *		table then.
 */
bool
workers_finish_prepared(const char *gid, bool committed)
{
	bool		known = false;
	int			i;

	if (shared == NULL)
		return false;
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_PREPARED && !known; i++)
	{
		PreparedWrites *p = &shared->prepared[i];

		if (p->dboid != MyDatabaseId || strcmp(p->gid, gid) != 0)
			continue;
		writes_ended(p->dboid, p->buckets, committed);
		memset(p, 0, sizeof(PreparedWrites));
		known = true;
	}
	SpinLockRelease(&shared->mutex);
	return known;
}

/*
 * workers_prepared_known
 *		Are the writes of prepared transaction gid, of this database, known
 *		(workers_finish_prepared will count them)?
 */
bool
workers_prepared_known(const char *gid)
{
	bool		known = false;
	int			i;

	if (shared == NULL)
		return false;
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_PREPARED; i++)
		known = known || (shared->prepared[i].dboid == MyDatabaseId &&
						  strcmp(shared->prepared[i].gid, gid) == 0);
	SpinLockRelease(&shared->mutex);
	return known;
}

/* workers_extension_created: schedule this database from commit on. */
void
workers_extension_created(void)
{
	extension_created_at_commit = true;
}

/*
 * workers_cancel_refresh
 *		Cancel the scheduled refresh of relid (of this database) that a
 *		refresh worker is running, if one is: its owner is about to drop,
 *		suspend or alter it (by function "by", which the history names),
 *		and would otherwise wait for the refresh's lock as long as the
 *		refresh runs.  The refresh ends, recorded in the history as
 *		CANCELLED (refresh_scheduled_unit), and its transaction with it,
 *		releasing the lock.
 */
void
workers_cancel_refresh(Oid relid, const char *by)
{
	pid_t		pid = 0;
	int			i;
	int			k;
	char		name[CANCELLER_LEN] = {0};

	if (shared == NULL)
		return;
	strlcpy(name, by, CANCELLER_LEN);
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];

		if (w->state != WORKER_BUSY || w->dboid != MyDatabaseId || w->pid == 0)
			continue;
		for (k = 0; k < w->nrelids; k++)
		{
			if (w->relids[k] == relid)
			{
				pid = w->pid;
				memcpy(w->cancelled_by, name, CANCELLER_LEN);
			}
		}
		if (w->building == relid)
		{
			pid = w->pid;
			memcpy(w->cancelled_by, name, CANCELLER_LEN);
		}
	}
	SpinLockRelease(&shared->mutex);
	if (pid != 0)
		kill(pid, SIGINT);
}

/*
 * workers_is_refresh_worker
 *		Whether the backend of pid is one of the refresh workers (a free
 *		slot keeps the pid of the worker that left it, which another
 *		backend may have now).
 */
bool
workers_is_refresh_worker(pid_t pid)
{
	bool		found = false;
	int			i;

	if (shared == NULL || pid == 0)
		return false;
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nworkers; i++)
		found = found || (shared->workers[i].state != WORKER_FREE && shared->workers[i].pid == pid);
	SpinLockRelease(&shared->mutex);
	return found;
}

/*
 * workers_lag_reason
 *		Why this database's tables may be behind their target lag for lack
 *		of workers (palloc'd), or NULL if its due refreshes are not waiting
 *		for one.  dt.dynamic_tables shows it (dt_internal.scheduling_delay).
 *		NULL where the scheduler is off (scheduling_enabled): no refresh
 *		there waits for a worker, though the database may, for a state to
 *		build apart (builds_wanted), or at the server's start, when every
 *		database is due until a worker has looked.  Before, the tables of
 *		such a database, refreshed by hand, said that they waited for a
 *		worker then, all of them busy, as if the scheduler ran there.
 */
char *
workers_lag_reason(void)
{
	TimestampTz since = 0;
	TimestampTz held_since = 0;
	bool		no_bgworker = false;
	DbSlot	   *db;

	if (shared == NULL)
		return NULL;
	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
	{
		since = db->starved_since;
		held_since = db->held_since;
		no_bgworker = db->no_bgworker;
	}
	SpinLockRelease(&shared->mutex);
	if ((since != 0 || held_since != 0) && !scheduling_enabled())
		return NULL;
	if (since == 0 && held_since != 0)
		return psprintf("waiting since %s for a refresh worker: the other %d run refreshes of %d seconds or "
						"more, and the last is kept for shorter ones (pg_dynamic_tables.max_concurrent_refreshes, "
						"pg_dynamic_tables.refresh_timeout)",
						timestamptz_to_str(held_since), workers_max_refreshes - 1,
						(int) (LONG_REFRESH_US / USECS_PER_SEC));
	if (since == 0)
		return NULL;
	if (no_bgworker)
		return psprintf("waiting since %s for a refresh worker: no background worker slot is free "
						"(raise max_worker_processes)", timestamptz_to_str(since));
	return psprintf("waiting since %s for a refresh worker: all %d are busy "
					"(pg_dynamic_tables.max_concurrent_refreshes)",
					timestamptz_to_str(since), workers_max_refreshes);
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
	DbSlot	   *db;
	int			i;

	if (shared == NULL || !OidIsValid(dboid))
		return;
	SpinLockAcquire(&shared->mutex);
	db = find_db(dboid);
	if (db != NULL)
		db->not_before = GetCurrentTimestamp() + 30 * USECS_PER_SEC;
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
 *		message (or message, if not NULL) for a worker of this database to
 *		record in the history, since the failing transaction will not
 *		commit.  The oldest is dropped when more than DT_FAILURE_RING wait.
 */
void
workers_report_failure(Oid relid, const char *trigger, TimestampTz start, const char *message)
{
	ErrorData  *edata;
	FailureRecord *f;

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
	SpinLockRelease(&shared->mutex);
	FreeErrorData(edata);
	schedule_changed(MyDatabaseId, false, bucket_of(relid));
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

/*
 * sync_databases
 *		A slot for every database of dbs (its next unit due at once: not
 *		known yet), none for a database gone; a worker slot whose process
 *		never came up is freed.
 */
static void
sync_databases(List *dbs, TimestampTz now)
{
	ListCell   *lc;
	int			i;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		if (OidIsValid(shared->dbs[i].dboid) && !list_member_oid(dbs, shared->dbs[i].dboid))
		{
			int			k;

			/* its counters start again from 0: its watches go */
			for (k = 0; k < shared->nwatches; k++)
			{
				if (shared->watches[k].dboid == shared->dbs[i].dboid)
					memset(&shared->watches[k], 0, sizeof(Watch));
			}
			memset(&shared->dbs[i], 0, sizeof(DbSlot));
		}
	}
	foreach(lc, dbs)
	{
		for (i = 0; i < DT_MAX_DATABASES && find_db(lfirst_oid(lc)) == NULL; i++)
		{
			if (!OidIsValid(shared->dbs[i].dboid))
				shared->dbs[i].dboid = lfirst_oid(lc);
		}
	}
	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];

		if (w->state == WORKER_STARTING && now - w->since > WORKER_START_TIMEOUT_US)
			w->state = WORKER_FREE;
	}
	SpinLockRelease(&shared->mutex);
}

/* compare_next_due: qsort's order of DbSlot pointers, earliest due first. */
static int
compare_next_due(const void *a, const void *b)
{
	TimestampTz x = (*(DbSlot *const *) a)->next_due;
	TimestampTz y = (*(DbSlot *const *) b)->next_due;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * neediest_database
 *		The database that needs a worker now whose work is due the
 *		earliest, or NULL; *wake is lowered to when another will need one.
 *		The caller holds the spinlock.
 *
 * A database whose workers left due units and none of them is ready needs
 * another now.  A database with no worker, or whose workers are all busy
 * while a worker slot is free, needs one in time for its next unit (its
 * next one no worker took: a long refresh, such as the catch-up after a
 * bulk load, does not hold up the units due while it runs; when every
 * slot is taken, only a database with no worker waits for one): started
 * a start's cost (start_cost_us) before it is due, or earlier when the
 * databases due around then are more than the worker slots: each slot
 * serves them one after the other, earliest deadline
 * first, a start's cost each, so the k-th is started no later than the
 * (k + slots)-th less that cost (as late as possible, every unit in time).
 * Several databases due at once are then served in turn from before they
 * are due, not one after the other from when they are.
 */
static DbSlot *
neediest_database(TimestampTz now, TimestampTz *wake)
{
	DbSlot	   *queue[DT_MAX_DATABASES];
	TimestampTz start_by[DT_MAX_DATABASES];
	DbSlot	   *best = NULL;
	bool		free_slot = false;
	int			not_long = 0;
	int			n = 0;
	int			i;

	for (i = 0; i < shared->nworkers; i++)
	{
		free_slot = free_slot || shared->workers[i].state == WORKER_FREE;
		if (!running_long(&shared->workers[i], now))
			not_long++;
	}
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		DbSlot	   *db = &shared->dbs[i];
		int			attached;
		bool		ready;

		if (!OidIsValid(db->dboid))
			continue;
		attached = attached_workers(db, &ready);
		if (ready)
			continue;
		/* a long unit waits (claim_unit): due once a worker would take it */
		if (db->held_since != 0 && (not_long > 1 || shared->nworkers == 1))
			db->next_due = Min(db->next_due, db->held_since);
		if (attached > 0 && db->waiting > 0)
		{
			if (now >= db->not_before && (best == NULL || db->next_due < best->next_due))
				best = db;
		}
		else if (db->next_due < DT_NOEND && (attached == 0 || free_slot))
			queue[n++] = db;
		else if (attached == 0)
			db->starved_since = 0;
	}
	qsort(queue, n, sizeof(DbSlot *), compare_next_due);
	for (i = n - 1; i >= 0; i--)
	{
		start_by[i] = queue[i]->next_due - shared->start_cost_us;
		if (i + shared->nworkers < n)
			start_by[i] = Min(start_by[i], start_by[i + shared->nworkers] - shared->start_cost_us);
	}
	for (i = 0; i < n; i++)
	{
		DbSlot	   *db = queue[i];

		if (now >= db->not_before && start_by[i] <= now)
		{
			if (best == NULL || db->next_due < best->next_due)
				best = db;
			continue;
		}
		db->starved_since = 0;
		*wake = Min(*wake, Max(start_by[i], db->not_before));
	}
	return best;
}

/*
 * idle_victim
 *		The idle refresh worker of another database than db whose own
 *		database's next unit is due the latest, later than db's, or NULL;
 *		none while another worker is already on its way out.  The caller
 *		holds the spinlock.
 */
static WorkerSlot *
idle_victim(DbSlot *db)
{
	WorkerSlot *victim = NULL;
	TimestampTz latest = 0;
	int			i;

	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];
		DbSlot	   *its = find_db(w->dboid);

		if (w->state != WORKER_FREE && w->quit)
			return NULL;
		if (w->state != WORKER_IDLE || w->dboid == db->dboid || w->latch == NULL)
			continue;
		if (victim == NULL || (its != NULL && its->next_due > latest))
		{
			victim = w;
			latest = its != NULL ? its->next_due : DT_NOEND;
		}
	}
	return latest > db->next_due ? victim : NULL;
}

/* start_refresh_worker: register a refresh worker for slot index. */
static bool
start_refresh_worker(int index)
{
	BackgroundWorker worker;
	MemoryContext old;
	bool		started;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	worker.bgw_main_arg = Int32GetDatum(index);
	worker.bgw_notify_pid = MyProcPid;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_dynamic_tables");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "dt_refresh_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_dynamic_tables refresh worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_dynamic_tables refresh worker");
	if (worker_handles[index] != NULL)
		pfree(worker_handles[index]);
	worker_handles[index] = NULL;
	old = MemoryContextSwitchTo(TopMemoryContext);
	started = RegisterDynamicBackgroundWorker(&worker, &worker_handles[index]);
	MemoryContextSwitchTo(old);
	return started;
}

/*
 * worker_exiting
 *		Is the process the launcher last started in worker slot index still
 *		there?  A worker frees its slot as it begins to exit; its background
 *		worker slot, of max_worker_processes, is free only once the
 *		postmaster has reaped it, which then tells the launcher
 *		(bgw_notify_pid sets its latch).
 */
static bool
worker_exiting(int index)
{
	pid_t		pid;

	return worker_handles[index] != NULL &&
		GetBackgroundWorkerPid(worker_handles[index], &pid) == BGWH_STARTED;
}

/*
 * starve_due
 *		Mark every database with work due by now (that the launcher would
 *		start a worker for: neediest_database) and no worker as waiting
 *		for one since now (if it was not already), for want of a background
 *		worker slot if no_bgworker (workers_lag_reason says which): the
 *		launcher tries the neediest database alone, and while no worker can
 *		start the others are never tried (with no room for any refresh
 *		worker, max_worker_processes 2 with the logical replication
 *		launcher, the tables of every database but the first showed a blank
 *		scheduling_state_reason).  The caller holds the spinlock.
 */
static void
starve_due(TimestampTz now, bool no_bgworker)
{
	int			i;

	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		DbSlot	   *db = &shared->dbs[i];
		bool		ready;

		if (!OidIsValid(db->dboid) || db->no_extension || db->next_due > now || now < db->not_before ||
			attached_workers(db, &ready) > 0)
			continue;
		if (db->starved_since == 0)
			db->starved_since = now;
		db->no_bgworker = no_bgworker;
	}
}

/*
 * assign_worker
 *		Give db a worker: start one in a free slot, or else ask an idle
 *		worker of another database to make room, or else mark db waiting
 *		for a worker.  Returns true if a worker was started.
 *
 * A slot whose worker is still exiting is not free yet: starting another
 * process then, before the postmaster had reaped the last one, failed
 * whenever max_worker_processes had no slot to spare (with just the
 * 1 + max_concurrent_refreshes the extension needs, five databases taking
 * turns at two workers wrote 291 "could not start" LOG lines in 45 s);
 * nor is another worker asked to make room meanwhile.  The postmaster
 * wakes the launcher once the process is gone.
 *
 * A start that failed for want of a background worker slot (fewer than
 * the extension needs, or taken by parallel queries) asks an idle worker
 * of another database to make room, as a full set of slots does, and no
 * start is tried with as many worker processes as then for
 * SHORT_OF_SLOTS_US, only once one is gone (each failure is a LOG line:
 * 140 a minute, then 51, when each turn, then each start after another,
 * had one).  With room for one refresh worker, a database whose table
 * kept its worker busy held it for good before, while the tables of every
 * other database waited, their scheduling_state_reason blank.
 */
static bool
assign_worker(DbSlot *db, TimestampTz now)
{
	WorkerSlot *w = NULL;
	WorkerSlot *victim = NULL;
	Latch	   *latch = NULL;
	bool		exiting[DT_MAX_WORKERS];
	bool		coming = false;
	bool		short_of_slots;
	int			live = 0;
	int			index = -1;
	int			i;
	bool		started;

	/* as many as shared->nworkers, which only the spinlock may read */
	for (i = 0; i < workers_max_refreshes; i++)
		exiting[i] = worker_exiting(i);
	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nworkers; i++)
	{
		coming = coming || (shared->workers[i].state == WORKER_FREE && exiting[i]);
		if (shared->workers[i].state != WORKER_FREE || exiting[i])
			live++;
	}
	short_of_slots = failed_with >= 0 && live >= failed_with && now - failed_at < SHORT_OF_SLOTS_US;
	for (i = 0; i < shared->nworkers && w == NULL && !short_of_slots; i++)
	{
		if (shared->workers[i].state == WORKER_FREE && !exiting[i])
		{
			w = &shared->workers[i];
			index = i;
			memset(w, 0, offsetof(WorkerSlot, relids));
			w->state = WORKER_STARTING;
			w->dboid = db->dboid;
			w->since = now;
			w->started_for = db->next_due;
		}
	}
	if (w == NULL && !coming && (victim = idle_victim(db)) != NULL)
	{
		victim->quit = true;
		latch = victim->latch;
	}
	if (w == NULL && victim == NULL && !coming)
	{
		if (db->starved_since == 0 && db->next_due <= now)
			db->starved_since = now;
		if (short_of_slots)
			db->no_bgworker = true;
		starve_due(now, short_of_slots);
	}
	shared->slot_wanted = w == NULL && victim == NULL;
	SpinLockRelease(&shared->mutex);
	if (latch != NULL)
		SetLatch(latch);
	if (w == NULL)
		return false;

	started = start_refresh_worker(index);
	if (!started)
	{
		failed_with = live;
		failed_at = now;
	}
	SpinLockAcquire(&shared->mutex);
	db->no_bgworker = !started;
	if (!started)
	{
		w->state = WORKER_FREE;
		if (db->starved_since == 0)
			db->starved_since = now;
		if ((victim = idle_victim(db)) != NULL)
		{
			victim->quit = true;
			latch = victim->latch;
		}
		else
			starve_due(now, true);
		shared->slot_wanted = victim == NULL;
	}
	SpinLockRelease(&shared->mutex);
	if (latch != NULL)
		SetLatch(latch);
	if (!started)
		ereport(LOG,
				(errmsg("pg_dynamic_tables could not start a refresh worker for database %u", db->dboid),
				 errhint("Raise max_worker_processes.")));
	return started;
}

/*
 * launcher_pass
 *		Start workers where due work has none, earliest first, while slots
 *		allow.  Returns when to look again.
 */
static TimestampTz
launcher_pass(MemoryContext cxt)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wake = now + LAUNCHER_NAP_US;

	sync_databases(database_list(cxt), now);
	for (;;)
	{
		DbSlot	   *db;

		SpinLockAcquire(&shared->mutex);
		shared->slot_wanted = false;
		db = neediest_database(now, &wake);
		SpinLockRelease(&shared->mutex);
		if (db == NULL || !assign_worker(db, now))
			break;
	}
	return wake;
}

/*
 * publish_server_enabled
 *		Publish pg_dynamic_tables.enabled as the launcher sees it: the
 *		server's (postgresql.conf, ALTER SYSTEM, the command line), since
 *		the launcher, connected to no database, applies no ALTER DATABASE
 *		or ALTER ROLE ... SET, which refresh workers do when they connect
 *		(scheduling_enabled says why that matters).  If it changed, every
 *		database's schedule changed: its generation moves, so that its
 *		workers read it again, and a worker leaving with a plan made before
 *		cannot overwrite the "look now" (publish), and one is started where
 *		there is none.
 */
static void
publish_server_enabled(void)
{
	Latch	   *latches[DT_MAX_WORKERS];
	int			n = 0;
	int			i;

	SpinLockAcquire(&shared->mutex);
	shared->server_builds = refresh_build_apart != DT_BUILD_APART_OFF;
	if (shared->server_enabled != workers_scheduler_enabled)
	{
		shared->server_enabled = workers_scheduler_enabled;
		for (i = 0; i < DT_MAX_DATABASES; i++)
		{
			shared->dbs[i].generation++;
			shared->dbs[i].next_due = 0;
		}
		for (i = 0; i < shared->nworkers; i++)
		{
			if (shared->workers[i].state != WORKER_FREE && shared->workers[i].latch != NULL)
				latches[n++] = shared->workers[i].latch;
		}
	}
	SpinLockRelease(&shared->mutex);
	for (i = 0; i < n; i++)
		SetLatch(latches[i]);
}

/*
 * reload_missed_at_start
 *		Read the configuration files once, the process's SIGHUP handler
 *		installed: the postmaster ignores SIGHUP in a background worker
 *		until its own handler is set, so a reload between the fork and then
 *		never reached it (a refresh worker started just before a reload that
 *		set pg_dynamic_tables.refresh_timeout let a refresh run for an hour:
 *		TAP tests 008 under load, 016).  Before the connection, whose
 *		database and role settings come after the files'.
 */
static void
reload_missed_at_start(void)
{
	ProcessConfigFile(PGC_SIGHUP);
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
	reload_missed_at_start();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	SpinLockAcquire(&shared->mutex);
	shared->launcher_latch = MyLatch;
	SpinLockRelease(&shared->mutex);

	/* scratch memory, reset every loop */
	cxt = AllocSetContextCreate(TopMemoryContext, "pg_dynamic_tables launcher", ALLOCSET_DEFAULT_SIZES);
	/* a reload while no launcher ran (it is restarted) is seen here */
	publish_server_enabled();
	for (;;)
	{
		TimestampTz wake;
		long		sleep_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			publish_server_enabled();
		}
		MemoryContextReset(cxt);
		wake = launcher_pass(cxt);
		sleep_ms = (long) ((wake - GetCurrentTimestamp()) / 1000);
		sleep_ms = Max(sleep_ms, 1);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ---------------------------------------------------------------------
 * Refresh workers
 * ---------------------------------------------------------------------
 */

/*
 * A unit found locked by another refresh, or whose refresh failed outside
 * its DTs' own error handling: when to try it again.
 */
typedef struct Blocked
{
	Oid			relid;			/* the unit's last DT */
	TimestampTz retry_at;
	int64		backoff_us;
} Blocked;

/* This worker's blocked units, in TopMemoryContext. */
static List *blocked = NIL;

/* Did the last in_transaction fail (roll back)? */
static bool transaction_failed = false;

/*
 * When the launcher started this worker, and the time its database's next
 * unit was due then (0 once the worker has run what was due by that time).
 */
static TimestampTz started_at = 0;
static TimestampTz started_for = 0;

/* refresh_worker_exit: free the worker slot and tell the launcher. */
static void
refresh_worker_exit(int code, Datum arg)
{
	Latch	   *latch;

	SpinLockAcquire(&shared->mutex);
	memset(&shared->workers[my_worker_slot], 0, offsetof(WorkerSlot, relids));
	latch = shared->launcher_latch;
	SpinLockRelease(&shared->mutex);
	if (latch != NULL)
		SetLatch(latch);
}

/*
 * report_and_abort
 *		In a PG_CATCH of a worker that goes on: report the error, and roll
 *		back the transaction it happened in, back in memory context cxt.
 */
static void
report_and_abort(MemoryContext cxt)
{
	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(cxt);
	EmitErrorReport();
	FlushErrorState();
	AbortCurrentTransaction();
	RESUME_INTERRUPTS();
}

/*
 * in_transaction
 *		Run work(arg) in a transaction of its own that commits at once, if
 *		the extension is still installed.  An error is reported, the
 *		transaction rolled back, and the worker goes on.  Returns whether
 *		the extension was there.
 */
static bool
in_transaction(void (*work) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool present = false;

	transaction_failed = false;
	begin_transaction();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		present = OidIsValid(get_extension_oid(DT_EXTENSION_NAME, true));
		if (present)
			work(arg);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		transaction_failed = true;
		report_and_abort(cxt);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return present;
}

/*
 * database_setting
 *		The value of setting "name" in this database's ALTER DATABASE ... SET
 *		(not a role's), read now, or NULL if it has none: a running process
 *		does not otherwise see it change (it took the database's settings
 *		of when it connected).
 */
static char *
database_setting(const char *name)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(MyDatabaseId), CStringGetTextDatum(name)};
	MemoryContext caller = CurrentMemoryContext;
	char	   *value = NULL;

	/*
	 * Every function and operator qualified: the search_path of a session
	 * that asks (through dt_internal.scheduling_delay or a refresh) is
	 * pinned, but an exact-type match of another schema would win over
	 * pg_catalog's polymorphic unnest even behind it.
	 */
	SPI_connect();
	if (SPI_execute_with_args("SELECT pg_catalog.substr(c, pg_catalog.length($2) OPERATOR(pg_catalog.+) 2)"
							  " FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c"
							  " WHERE s.setdatabase OPERATOR(pg_catalog.=) $1"
							  " AND s.setrole OPERATOR(pg_catalog.=) 0::pg_catalog.oid"
							  " AND pg_catalog.starts_with(c, $2 OPERATOR(pg_catalog.||) '=')",
							  2, types, values, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		value = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	return value;
}

/*
 * scheduling_enabled
 *		pg_dynamic_tables.enabled for this database: its ALTER DATABASE ...
 *		SET (database_setting), or else the server's, as the launcher
 *		published it.  Not this process's own setting: that took, when the
 *		worker connected, the database's setting of then (an ALTER DATABASE
 *		... RESET since would not reach it, nor would a reload, the
 *		database's setting coming first) and an ALTER ROLE ... SET of the
 *		role it connects as, which is for sessions, not for the scheduler.
 */
static bool
scheduling_enabled(void)
{
	char	   *value = database_setting("pg_dynamic_tables.enabled");
	bool		enabled;

	SpinLockAcquire(&shared->mutex);
	enabled = shared->server_enabled;
	SpinLockRelease(&shared->mutex);
	if (value != NULL)
		(void) parse_bool(value, &enabled);
	return enabled;
}

/*
 * database_builds_apart
 *		Do the refresh workers of this database build states apart
 *		(build_state_when_idle)?  So they do unless
 *		pg_dynamic_tables.build_state_apart is off for them: in the server's
 *		setting, as the launcher published it (a session's SET does not reach
 *		them), or in this database's ALTER DATABASE ... SET
 *		(database_setting), which can only keep them out: the setting is any
 *		user's to set, and a database's owner, no superuser, must not bring
 *		background builds into a server whose superuser set it off (with the
 *		scheduler off, such builds are all the workers would do there).
 */
static bool
database_builds_apart(void)
{
	char	   *value;
	bool		on;

	SpinLockAcquire(&shared->mutex);
	on = shared->server_builds;
	SpinLockRelease(&shared->mutex);
	if (!on)
		return false;
	value = database_setting("pg_dynamic_tables.build_state_apart");
	return value == NULL || !parse_bool(value, &on) || on;
}

/*
 * build_apart_here
 *		Would a refresh worker of this database build a state set aside
 *		apart from the refreshes (refresh_workers_build)?  So it would
 *		where its workers build states apart (database_builds_apart) and
 *		there are two worker slots or more (a worker builds only while
 *		another slot is free or idle: build_state_work), whether the
 *		scheduler runs there or not: where it does not (tables refreshed
 *		only by hand), the launcher starts a worker for the build, which
 *		schedules nothing and exits when idle.  If so and at_commit, this database's workers are asked
 *		to look for it when this transaction commits (builds_wanted).  In a
 *		transaction.
 */
static bool
build_apart_here(bool at_commit)
{
	if (shared == NULL || workers_max_refreshes < 2 || !database_builds_apart())
		return false;
	if (at_commit)
		build_wanted_at_commit = true;
	return true;
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
		catalog_insert_history(mine[i].relid, mine[i].trigger, mine[i].start, mine[i].end, 0, 0,
							   NULL, "FAILED", mine[i].message);
}

/* The schedule a worker reads, for load_schedule_work. */
typedef struct ScheduleLoad
{
	MemoryContext cxt;			/* where the entries go */
	List	   *entries;
} ScheduleLoad;

/*
 * load_schedule_work
 *		Record failed manual refreshes, then read the schedule (no DT when
 *		scheduling is off or the catalog is not yet updated).
 */
static void
load_schedule_work(void *arg)
{
	ScheduleLoad *load = (ScheduleLoad *) arg;

	record_failures();
	if (scheduling_enabled() && catalog_version_current())
	{
		MemoryContext old = MemoryContextSwitchTo(load->cxt);

		load->entries = schedule_load();
		MemoryContextSwitchTo(old);
	}
}

/*
 * trim_history_work: for in_transaction, keep refresh_history_size rows per
 * DT, and the latest of each kind adaptive refresh reads
 * (catalog_trim_history).
 */
static void
trim_history_work(void *arg)
{
	catalog_trim_history(workers_history_size);
}

/*
 * release_capture_work
 *		Release the capture no DT needs any more that the users who dropped
 *		DTs could not (capture_release_unused_inputs); in a transaction of
 *		its own, taking each lock only if it is free.
 */
static void
release_capture_work(void *arg)
{
	capture_release_unused_inputs(true);
}

/*
 * unavailable_relids
 *		The DTs no new unit of this worker may contain: those other workers
 *		of the database are refreshing, and those of units blocked until
 *		later (*wake lowered to when they may be tried).
 */
static List *
unavailable_relids(TimestampTz now, TimestampTz *wake)
{
	List	   *busy = NIL;
	ListCell   *lc;
	int			i;
	int			k;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nworkers; i++)
	{
		WorkerSlot *w = &shared->workers[i];

		if (i == my_worker_slot || w->dboid != MyDatabaseId || w->state != WORKER_BUSY)
			continue;
		for (k = 0; k < w->nrelids; k++)
			busy = lappend_oid(busy, w->relids[k]);
	}
	SpinLockRelease(&shared->mutex);
	foreach(lc, blocked)
	{
		Blocked    *b = (Blocked *) lfirst(lc);

		if (b->retry_at > now)
		{
			busy = lappend_oid(busy, b->relid);
			*wake = Min(*wake, b->retry_at);
		}
	}
	return busy;
}

/*
 * note_blocked
 *		The unit ending with relid was skipped (locked, skipped is true),
 *		failed (its transaction rolled back: an error outside the history
 *		and failure count of its DTs, as of lock_inputs cancelled by
 *		pg_dynamic_tables.refresh_timeout while DDL holds a table it reads),
 *		or ran: back off before the next try, doubling up to
 *		BACKOFF_MAX_US (BACKOFF_FAILED_MAX_US after a failure: each try is an
 *		ERROR in the server log, and tried again at once, a cause that
 *		lasts made hundreds a second), or forget it.
 */
static void
note_blocked(Oid relid, bool skipped, bool failed)
{
	ListCell   *lc;
	Blocked    *b = NULL;

	foreach(lc, blocked)
	{
		if (((Blocked *) lfirst(lc))->relid == relid)
			b = (Blocked *) lfirst(lc);
	}
	if (!skipped && !failed)
	{
		if (b != NULL)
		{
			blocked = list_delete_ptr(blocked, b);
			pfree(b);
		}
		return;
	}
	if (b == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		b = palloc0(sizeof(Blocked));
		b->relid = relid;
		blocked = lappend(blocked, b);
		MemoryContextSwitchTo(old);
	}
	b->backoff_us = b->backoff_us == 0 ? BACKOFF_MIN_US :
		Min(2 * b->backoff_us, failed ? BACKOFF_FAILED_MAX_US : BACKOFF_MAX_US);
	b->retry_at = GetCurrentTimestamp() + b->backoff_us;
}

/*
 * keep_last_worker
 *		Is this the last worker of the server not running a long refresh
 *		(with more than one), while units that take less may need it: those
 *		of another database with the extension (its tables may be written
 *		any time), or of this one (entries)?  Then it takes no long unit
 *		(claim_unit).  The caller holds the spinlock.
 */
static bool
keep_last_worker(List *entries, TimestampTz now)
{
	bool		others = false;
	int			i;

	for (i = 0; i < shared->nworkers; i++)
	{
		if (i != my_worker_slot && !running_long(&shared->workers[i], now))
			return false;
	}
	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		DbSlot	   *db = &shared->dbs[i];

		others = others || (OidIsValid(db->dboid) && db->dboid != MyDatabaseId && !db->no_extension);
	}
	return shared->nworkers > 1 && (others || schedule_any_shorter(entries, LONG_REFRESH_US));
}

/*
 * unit_is_long
 *		Did one of the recent refreshes of unit (of any kind) take
 *		LONG_REFRESH_US or more, or was it never refreshed?
 */
static bool
unit_is_long(List *entries, List *unit)
{
	int64		expected = schedule_expected(entries, llast_oid(unit));

	return expected < 0 || expected >= LONG_REFRESH_US;
}

/*
 * waits_since_before
 *		Does a long unit of another database wait for a worker (held_since,
 *		claim_unit) since before due_at, one that it may get (no_bgworker:
 *		not)?  The caller holds the spinlock.
 */
static bool
waits_since_before(TimestampTz due_at)
{
	int			i;

	for (i = 0; i < DT_MAX_DATABASES; i++)
	{
		DbSlot	   *db = &shared->dbs[i];

		if (OidIsValid(db->dboid) && db->dboid != MyDatabaseId && db->held_since != 0 &&
			db->held_since < due_at && !db->no_bgworker)
			return true;
	}
	return false;
}

/*
 * leaves_unit
 *		Does this worker leave unit, due as entries say, for later
 *		(claim_unit): a long unit, when it keeps the last worker or a long
 *		unit of another database waits since before unit came due?  A unit
 *		that came due while this worker refreshed it waits since that
 *		refresh ended.  The caller holds the spinlock.
 */
static bool
leaves_unit(List *entries, List *unit, bool keep_last)
{
	TimestampTz due_at = schedule_due_at(entries, llast_oid(unit));

	if (llast_oid(unit) == ran_last)
		due_at = Max(due_at, ran_last_end);
	return unit_is_long(entries, unit) && (keep_last || waits_since_before(due_at));
}

/*
 * note_held
 *		Whether this worker left a long unit for the last worker
 *		(claim_unit): its database waits since now if one of its workers
 *		did, or no longer.  The caller holds the spinlock.
 */
static void
note_held(bool held, TimestampTz now)
{
	DbSlot	   *db = find_db(MyDatabaseId);
	int			i;

	shared->workers[my_worker_slot].held = held;
	for (i = 0; i < shared->nworkers; i++)
	{
		if (shared->workers[i].dboid == MyDatabaseId && shared->workers[i].state != WORKER_FREE)
			held = held || shared->workers[i].held;
	}
	if (db != NULL && !held)
		db->held_since = 0;
	else if (db != NULL && db->held_since == 0)
		db->held_since = now;
}

/*
 * claim_unit
 *		The first of units none of whose DTs another worker of this
 *		database refreshes, now marked as this worker's (BUSY), or NIL.
 *		*left: how many other units are due and wait for a worker.
 *
 * A long unit (one of its recent refreshes, entries say, took
 * LONG_REFRESH_US or more, or it was never refreshed) is not taken when
 * every other worker of the server runs a long refresh (one claimed as
 * long, or running that long):
 * the last worker is kept for the units of all databases that take less,
 * which would otherwise wait, whatever their lag, for as long as the long
 * ones run (refresh_timeout is off by default).  Such a unit is not left
 * for another worker (none would take it): the database says it waits
 * (held_since, workers_lag_reason), and this worker is woken when a
 * refresh ends (run_unit).  With one worker, nothing is kept.  Nor is a
 * long unit taken that came due after one of another database began to
 * wait so: the worker whose long refresh just ended would otherwise take
 * its own table's next one before the waiting worker woke, and a table
 * refreshed back to back kept the other database's waiting for ever.
 */
static List *
claim_unit(List *units, List *entries, int *left)
{
	TimestampTz now = GetCurrentTimestamp();
	WorkerSlot *me = &shared->workers[my_worker_slot];
	List	   *mine = NIL;
	bool		keep_last;
	bool		held = false;
	ListCell   *lc;
	ListCell   *lc2;
	int			i;
	int			k;

	*left = list_length(units);
	SpinLockAcquire(&shared->mutex);
	keep_last = keep_last_worker(entries, now);
	foreach(lc, units)
	{
		List	   *unit = (List *) lfirst(lc);
		bool		taken = list_length(unit) > DT_MAX_UNIT;

		for (i = 0; i < shared->nworkers && !taken; i++)
		{
			WorkerSlot *w = &shared->workers[i];

			if (i == my_worker_slot || w->dboid != MyDatabaseId || w->state != WORKER_BUSY)
				continue;
			for (k = 0; k < w->nrelids; k++)
				taken = taken || list_member_oid(unit, w->relids[k]);
		}
		if (taken)
			continue;
		if (leaves_unit(entries, unit, keep_last))
		{
			held = true;
			(*left)--;
			continue;
		}
		mine = unit;
		me->state = WORKER_BUSY;
		me->since = now;
		me->long_refresh = unit_is_long(entries, unit);
		me->nrelids = 0;
		me->cancelled_by[0] = '\0';
		foreach(lc2, unit)
			me->relids[me->nrelids++] = lfirst_oid(lc2);
		(*left)--;
		break;
	}
	note_held(held, now);
	SpinLockRelease(&shared->mutex);
	return mine;
}

/*
 * publish
 *		Tell the launcher about this database: its next unit that this
 *		worker did not take is due at next_due (another worker is started
 *		for it if this one is still busy then), and left due units wait for
 *		another worker (the launcher is woken to start one).  Then no due
 *		work is waiting for a worker any more, or it is, since now.  With
 *		planned (the generation of the schedule next_due was planned from),
 *		a schedule changed since is due now: its change's "look now" is not
 *		overwritten by an older plan.
 */
static void
publish(TimestampTz next_due, int left, const uint32 *planned)
{
	DbSlot	   *db;
	bool		starved = false;
	Latch	   *launcher = NULL;
	int			i;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
	{
		db->next_due = left > 0 || (planned != NULL && *planned != db->generation) ? 0 : next_due;
		db->waiting = left;
		if (left == 0)
			db->starved_since = 0;
	}
	for (i = 0; i < DT_MAX_DATABASES; i++)
		starved = starved || shared->dbs[i].starved_since != 0;
	if (left > 0 || starved)
		launcher = shared->launcher_latch;
	SpinLockRelease(&shared->mutex);
	if (launcher != NULL)
		SetLatch(launcher);
}

/* DTs, for refresh_unit_work (a unit) and compact_unit_logs_work. */
typedef struct UnitRun
{
	List	   *unit;
	bool		skipped;		/* set by refresh_unit_work */
	bool		settled;		/* set by refresh_unit_work */
	List	   *big_logs;		/* set by compact_unit_logs_work */
	List	   *locked_logs;	/* tables whose logs compact_unit_logs_work is
								 * to try again, then those left */
} UnitRun;

/*
 * refresh_cancelled
 *		Was the refresh of this worker's unit that just failed cancelled by
 *		workers_cancel_refresh?  The function that did (in a buffer the
 *		next call overwrites), or NULL.
 *		Its DT's owner is altering, suspending or dropping it, which is no
 *		failure of the refresh: it is recorded as CANCELLED, not counted
 *		towards suspension (each retry could be cancelled again while the
 *		owner waits for the lock, five in a row suspending the DT), and the
 *		unit backs off as a locked one does (note_blocked), so that the
 *		owner takes the lock.
 */
static const char *
refresh_cancelled(void)
{
	static char by[CANCELLER_LEN];

	SpinLockAcquire(&shared->mutex);
	memcpy(by, shared->workers[my_worker_slot].cancelled_by, CANCELLER_LEN);
	SpinLockRelease(&shared->mutex);
	return by[0] != '\0' ? by : NULL;
}

/*
 * start_delay
 *		How late a worker of this database recently claimed a unit, after
 *		it was due (note_start_delay): part of every lead (schedule_plan).
 */
static int64
start_delay(void)
{
	DbSlot	   *db;
	int64		delay = 0;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
		delay = db->start_delay_us;
	SpinLockRelease(&shared->mutex);
	return delay;
}

/*
 * note_start_delay
 *		This worker claimed a unit late by delay_us after it was due: the
 *		database's start delay is the larger of that and its last value
 *		less an eighth, a maximum of the recent claims that forgets a
 *		spike within a few dozen of them.
 */
static void
note_start_delay(int64 delay_us)
{
	DbSlot	   *db;

	delay_us = Max(delay_us, 0);
	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
		db->start_delay_us = Max(delay_us, db->start_delay_us - db->start_delay_us / 8);
	SpinLockRelease(&shared->mutex);
}

/*
 * unit_is_current
 *		schedule_plan's ScheduleFreshFn: is nothing relid's unit reads
 *		changed since its last scheduled refresh (its watch)?  If something
 *		has, *as_of is when it was known current last (unless the schedule
 *		changed since), and *due_now whether an input was rebuilt (a rebuild
 *		marker, writes_rebuilt) after that refresh began.
 */
static bool
unit_is_current(Oid relid, TimestampTz *as_of, bool *due_now, void *arg)
{
	bool		current = false;
	DbSlot	   *db;
	Watch	   *w;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	w = db != NULL ? find_watch(db->dboid, relid) : NULL;
	if (w != NULL && watch_clean(db, w))
		current = true;
	else if (w != NULL)
	{
		/* a rebuild since its refresh counts even if the schedule changed */
		if (w->generation == db->generation)
			*as_of = w->verified_at;
		*due_now = bucket_sum(db->rebuilds, w->mask) != w->rebuilds;
	}
	SpinLockRelease(&shared->mutex);
	return current;
}

/*
 * A unit's inputs as they were before its refresh, for watch_unit: read
 * before the refresh takes its snapshot.
 */
typedef struct UnitInputs
{
	uint64		mask;			/* the buckets of the tables it reads */
	uint64		dts;			/* the buckets of its DTs and those they read */
	uint64		seen;			/* their changes */
	uint64		rebuilds;		/* their rebuilds */
	uint32		generation;		/* the database's schedule's */
	TimestampTz at;				/* when */
	int64		due_after;		/* schedule_due_after */
} UnitInputs;

/*
 * read_unit_inputs
 *		The buckets of the tables (not DTs) that the unit of DT relid reads,
 *		directly or through the DTs it reads, and their changes now.
 *
 * Why a unit that had no change since is current: its refresh takes its
 * snapshot S after this.  A transaction that wrote one of these tables is
 * either visible in S, so consumed by the refresh, or became visible after
 * S was taken, and then it is counted in flight from before it became
 * visible (pre-commit) until it is counted as a change (commit), and that
 * is after this read.  So while the changes are still those read here and
 * none is in flight, every commit visible is one the refresh consumed:
 * the unit is current.  The error is always on the safe side: a writer in
 * flight now is counted as a change, although S may see it; a rolled-back
 * subtransaction, a collision of buckets or DDL count as changes too;
 * each costs one refresh, NO_DATA.  A DT changes only through its
 * refreshes, which follow changes of these tables, so the DTs' own
 * buckets are not watched.
 */
static void
read_unit_inputs(List *entries, Oid relid, UnitInputs *in)
{
	ListCell   *lc;
	DbSlot	   *db;
	int			b;

	in->due_after = schedule_due_after(entries, relid, start_delay());
	in->mask = 0;
	foreach(lc, schedule_tables_read(entries, relid))
		in->mask |= bucket_of(lfirst_oid(lc));
	in->dts = 0;
	foreach(lc, schedule_dts_read(entries, relid))
		in->dts |= bucket_of(lfirst_oid(lc));
	in->seen = 0;
	in->rebuilds = 0;
	in->generation = 0;
	in->at = GetCurrentTimestamp();
	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	for (b = 0; db != NULL && b < DT_BUCKETS; b++)
	{
		if (in->mask & (UINT64CONST(1) << b))
			in->seen += db->changes[b];
	}
	if (db != NULL)
	{
		in->rebuilds = bucket_sum(db->rebuilds, in->mask);
		in->generation = db->generation;
	}
	SpinLockRelease(&shared->mutex);
}

/*
 * rewatch
 *		The schedule of this database was read again (entries): give the
 *		watches it kept across a change (schedule_changed) the delay the
 *		new schedule gives their units, which a change downstream moves
 *		(a DOWNSTREAM lag follows its readers').
 */
static void
rewatch(List *entries)
{
	Oid			relids[DT_MAX_WATCHES];
	int64		due_after[DT_MAX_WATCHES];
	int64		delay = start_delay();
	int			n = 0;
	int			i;
	DbSlot	   *db;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < shared->nwatches; i++)
	{
		if (shared->watches[i].dboid == MyDatabaseId)
			relids[n++] = shared->watches[i].relid;
	}
	SpinLockRelease(&shared->mutex);
	for (i = 0; i < n; i++)
		due_after[i] = Max(schedule_due_after(entries, relids[i], delay), 0);
	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	for (i = 0; db != NULL && i < n; i++)
	{
		Watch	   *w = find_watch(MyDatabaseId, relids[i]);

		if (w != NULL && w->generation == db->generation)
			w->due_after = due_after[i];
	}
	SpinLockRelease(&shared->mutex);
}

/*
 * watch_unit
 *		After the scheduled refresh of the unit of relid: watch its inputs
 *		(in, read before it) if it left every DT of the unit current in a
 *		way that a refresh with no new change would keep (settled), or else
 *		forget its watch.  Full memory of watches only costs refreshes.
 *		Returns whether the unit is watched now.
 */
static bool
watch_unit(Oid relid, const UnitInputs *in, bool settled)
{
	DbSlot	   *db;
	Watch	   *w;
	int			i;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	w = find_watch(MyDatabaseId, relid);
	if (w != NULL && (!settled || db == NULL))
		memset(w, 0, sizeof(Watch));
	for (i = 0; w == NULL && settled && db != NULL && i < DT_MAX_WATCHES; i++)
	{
		if (!OidIsValid(shared->watches[i].dboid))
			w = &shared->watches[i];
	}
	if (w != NULL && settled && db != NULL)
	{
		shared->nwatches = Max(shared->nwatches, (int) (w - shared->watches) + 1);
		w->dboid = MyDatabaseId;
		w->relid = relid;
		w->generation = in->generation;
		w->mask = in->mask;
		w->dts = in->dts;
		w->seen = in->seen;
		w->verified_at = in->at;
		w->due_after = Max(in->due_after, 0);
		w->rebuilds = in->rebuilds;
		db->quiet |= in->mask;
	}
	SpinLockRelease(&shared->mutex);
	return w != NULL && settled && db != NULL;
}

/*
 * commit_asynchronously
 *		synchronous_commit = off for the current transaction, a refresh's or
 *		a cleanup of logs: its commit does not wait for its WAL to reach
 *		the disk, which cost a refresh of a few changed rows more than the
 *		refresh itself (1 to 17 ms an fdatasync on a shared disk, ten
 *		times a second for a 100 ms target lag).  What these transactions
 *		write is derived (the DTs' rows and state, their positions and
 *		history, log rows deleted), each refresh atomic with its position:
 *		a crash that loses the last of them (up to three times
 *		wal_writer_delay) leaves the DTs as of an earlier refresh with its
 *		changes still in the logs, and the next refresh consumes them
 *		again.  A transaction that read a refresh's rows and then commits
 *		a write synchronously flushes that refresh's commit first, since
 *		WAL is flushed in order (a read-only one flushes nothing).
 */
static void
commit_asynchronously(void)
{
	(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * refresh_unit_work
 *		Refresh a unit (refresh_scheduled_unit), leaving out its DTs dropped
 *		since it was planned, within pg_dynamic_tables.refresh_timeout,
 *		committed asynchronously.
 */
static void
refresh_unit_work(void *arg)
{
	UnitRun    *run = (UnitRun *) arg;
	List	   *unit = NIL;
	ListCell   *lc;

	commit_asynchronously();
	foreach(lc, run->unit)
	{
		if (get_rel_name(lfirst_oid(lc)) != NULL)
			unit = lappend_oid(unit, lfirst_oid(lc));
	}
	if (unit == NIL)
		return;
	pgstat_report_activity(STATE_RUNNING, psprintf("refresh of %s", get_rel_name(llast_oid(unit))));
	if (workers_refresh_timeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, workers_refresh_timeout);
	run->skipped = !refresh_scheduled_unit(unit, workers_fresh_as_of, refresh_cancelled, &run->settled, false);
	/* a DT dropped since it was planned: its unit is not the same */
	run->settled = run->settled && list_length(unit) == list_length(run->unit);
	if (workers_refresh_timeout > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);
}

/*
 * compact_unit_logs_work
 *		Delete what the refreshes of the DTs consumed from the change logs
 *		they read, and from those of run->locked_logs (capture_cleanup),
 *		then give back the pages of those that are empty now
 *		(capture_compact_logs), committed asynchronously (a crash that loses
 *		it leaves the rows for the next).  run->locked_logs becomes the
 *		tables whose logs another transaction held, so that neither could be
 *		done: the next compaction tries them again, as no refresh may come
 *		to ask for it (a table nobody writes is not refreshed).
 */
static void
compact_unit_logs_work(void *arg)
{
	UnitRun    *run = (UnitRun *) arg;
	List	   *inputs = list_copy(run->locked_logs);
	List	   *locked = NIL;
	ListCell   *lc;
	ListCell   *lc2;
	MemoryContext old;

	commit_asynchronously();
	foreach(lc, run->unit)
	{
		if (get_rel_name(lfirst_oid(lc)) == NULL)
			continue;
		foreach(lc2, catalog_input_relids(lfirst_oid(lc)))
			inputs = list_append_unique_oid(inputs, lfirst_oid(lc2));
	}
	foreach(lc, inputs)
	{
		if (!capture_cleanup(lfirst_oid(lc)))
			locked = lappend_oid(locked, lfirst_oid(lc));
	}
	/* the emptiness check sees the rows deleted */
	CommandCounterIncrement();
	inputs = capture_compact_logs(inputs, &locked);
	old = MemoryContextSwitchTo(TopMemoryContext);
	run->big_logs = list_copy(inputs);
	run->locked_logs = list_concat_unique_oid(NIL, locked);
	MemoryContextSwitchTo(old);
}

/*
 * vacuum_logs
 *		VACUUM the logs that compact_unit_logs_work could not empty
 *		(capture_vacuum_logs), outside any transaction; a failure is
 *		reported, and the worker goes on.
 */
static void
vacuum_logs(List *relids)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		capture_vacuum_logs(relids);
	}
	PG_CATCH();
	{
		report_and_abort(cxt);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
}

/*
 * compact_logs
 *		Add unit's DTs to those whose logs wait to be cleaned up and
 *		compacted, and do it for them all, in a transaction of its own, if
 *		the last time was a second ago or more (or now, with force: the
 *		worker is leaving): a bulk load's pages come back within a second or
 *		so, and tables refreshed many times a second do not pay a
 *		transaction, or a scan of each log they read, per refresh for it.
 *		Otherwise *wake (if not NULL) is lowered to when they may be: a
 *		table that goes idle after its refresh is not refreshed again.  Rows
 *		consumed and not yet deleted cost nothing but their scan: a refresh
 *		reads only those after its position.
 *
 * The logs that another transaction held the last time (locked) are
 * tried again with them, or on their own after a back-off that doubles
 * from a second up to COMPACT_RETRY_MAX_US while they stay held: a log
 * held for long (an open transaction that wrote its table holds it until
 * it ends) cost a transaction and a VACUUM of the log every second, and
 * woke an idle worker for it.
 */
static void
compact_logs(List *unit, bool force, TimestampTz *wake)
{
	static List *waiting = NIL;
	static List *locked = NIL;
	static TimestampTz compacted_at = 0;
	static TimestampTz retry_at = 0;
	static int64 retry_backoff_us = 0;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	TimestampTz now = GetCurrentTimestamp();
	bool		retry;
	ListCell   *lc;

	foreach(lc, unit)
		waiting = list_append_unique_oid(waiting, lfirst_oid(lc));
	MemoryContextSwitchTo(old);
	retry = locked != NIL && (force || now >= retry_at);
	if (waiting == NIL && !retry)
	{
		if (locked != NIL && wake != NULL)
			*wake = Min(*wake, retry_at);
	}
	else if (!force && now - compacted_at < COMPACT_INTERVAL_US)
	{
		if (wake != NULL)
			*wake = Min(*wake, compacted_at + COMPACT_INTERVAL_US);
	}
	else
	{
		UnitRun		all = {waiting, false, false, NIL, retry ? locked : NIL};
		bool		failed;

		(void) in_transaction(compact_unit_logs_work, &all);
		failed = transaction_failed;
		if (all.big_logs != NIL)
			vacuum_logs(all.big_logs);
		list_free(all.big_logs);
		list_free(waiting);
		waiting = NIL;
		compacted_at = GetCurrentTimestamp();
		/* after a failure, nothing is tried again: it would fail each second */
		if (failed)
		{
			list_free(locked);
			locked = NIL;
		}
		else if (retry)
		{
			list_free(locked);
			locked = all.locked_logs;
		}
		else
		{
			old = MemoryContextSwitchTo(TopMemoryContext);
			locked = list_concat_unique_oid(locked, all.locked_logs);
			MemoryContextSwitchTo(old);
			list_free(all.locked_logs);
		}
		/* held again after a try: back off further */
		if (locked == NIL)
			retry_backoff_us = 0;
		else if (retry || retry_backoff_us == 0)
		{
			retry_backoff_us = retry_backoff_us == 0 ? COMPACT_INTERVAL_US :
				Min(2 * retry_backoff_us, COMPACT_RETRY_MAX_US);
			retry_at = compacted_at + retry_backoff_us;
		}
	}
}

/*
 * idle_again
 *		This worker's refresh (run_unit) or build of a state
 *		(build_state_when_idle) ended: it is idle, and a long unit left for
 *		it, or a database waiting for a slot, may go now.
 */
static void
idle_again(void)
{
	Latch	   *launcher;
	Latch	   *held[DT_MAX_WORKERS];
	int			nheld = 0;
	int			i;
	bool		was_long;

	SpinLockAcquire(&shared->mutex);
	/* a long refresh ends: a long unit held for it may go (neediest_database) */
	was_long = running_long(&shared->workers[my_worker_slot], GetCurrentTimestamp());
	shared->workers[my_worker_slot].state = WORKER_IDLE;
	shared->workers[my_worker_slot].nrelids = 0;
	shared->workers[my_worker_slot].building = InvalidOid;
	shared->workers[my_worker_slot].cancelled_by[0] = '\0';
	shared->workers[my_worker_slot].long_refresh = false;
	shared->workers[my_worker_slot].since = GetCurrentTimestamp();
	launcher = shared->slot_wanted || was_long ? shared->launcher_latch : NULL;
	/* workers that left a long unit may take it now (claim_unit) */
	for (i = 0; i < shared->nworkers; i++)
	{
		if (i != my_worker_slot && shared->workers[i].held && shared->workers[i].state == WORKER_IDLE &&
			shared->workers[i].latch != NULL)
			held[nheld++] = shared->workers[i].latch;
	}
	SpinLockRelease(&shared->mutex);
	/* a database waits for a slot: this worker may be the one to give it */
	if (launcher != NULL)
		SetLatch(launcher);
	for (i = 0; i < nheld; i++)
		SetLatch(held[i]);
	/* a cancel that came too late has nothing left to cancel */
	QueryCancelPending = false;
	/* a busy worker does not exit: autovacuum must see its dead rows now */
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * run_unit
 *		Refresh a unit in its own transaction, then watch its inputs
 *		(watch_unit) and have the logs it read compacted (compact_logs);
 *		back off if it was locked or failed (note_blocked).  A cancel
 *		(SIGINT from workers_cancel_refresh, or the timeout) fails the
 *		refresh, and ends
 *		here at the latest.  Returns whether the unit is watched and the
 *		schedule it was planned on (entries) took each of its DTs for
 *		populated: then the watch tells the next plan when the unit was
 *		current (unit_is_current), and the schedule need not be read again
 *		for it.  A DT that schedule took for unpopulated (created
 *		on_schedule) is populated now, by this refresh or by another
 *		transaction before it (then this one was NO_DATA), which only the
 *		catalog says: planned on entries again, it would be due at once,
 *		and was refreshed, NO_DATA, back to back until the schedule was
 *		next read (up to ten seconds).
 */
static bool
run_unit(List *unit, List *entries)
{
	UnitRun		run = {unit, false, false, NIL, NIL};
	UnitInputs	in;
	bool		watched;
	bool		failed;
	bool		cancelled;

	read_unit_inputs(entries, llast_oid(unit), &in);
	(void) in_transaction(refresh_unit_work, &run);
	failed = transaction_failed;
	watched = watch_unit(llast_oid(unit), &in, run.settled && !run.skipped && !failed);
	if (workers_refresh_timeout > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);

	/*
	 * Functions of the DTs' queries ran here as their owners: a session-level
	 * advisory lock one of them took must not stay with this worker, which
	 * serves every owner of the database (temporary tables, cursors WITH HOLD
	 * and LISTEN are refused to them already, and their settings end with the
	 * refresh).
	 */
	LockReleaseSession(USER_LOCKMETHOD);
	cancelled = refresh_cancelled() != NULL;
	note_blocked(llast_oid(unit), run.skipped || cancelled, failed && !cancelled);
	if (!run.skipped)
		compact_logs(unit, false, NULL);

	idle_again();
	return watched && schedule_unit_refreshed(entries, unit);
}

/*
 * An idle worker looks for a state to build at most every BUILD_LOOK_US
 * (a transaction and a query of the history), since build_looked_at.
 */
#define BUILD_LOOK_US (USECS_PER_SEC)
static TimestampTz build_looked_at = 0;

/* What build_state_work is to build, and what it did. */
typedef struct StateBuild
{
	int64		slack_us;		/* the time until this database's next unit is
								 * due */
	Oid			relid;			/* set by build_state_work: the DT tried */
	int64		refresh_id;		/* ... its last refresh */
	bool		built;			/* ... whether its state was built */
	bool		none;			/* ... or that there is none to build */
} StateBuild;

/*
 * build_failed_lately
 *		Did a build of b's state fail less than REBUILD_RETRY_AFTER refreshes
 *		of it ago (a worker of this database's, since the server started)?
 */
static bool
build_failed_lately(DtStateToBuild *b)
{
	int64		failed_after = -1;
	int			i;

	SpinLockAcquire(&shared->mutex);
	for (i = 0; i < DT_MAX_FAILED_BUILDS; i++)
	{
		FailedBuild *f = &shared->failed_builds[i];

		if (f->dboid == MyDatabaseId && f->relid == b->relid)
			failed_after = Max(failed_after, f->refresh_id);
	}
	SpinLockRelease(&shared->mutex);
	return failed_after >= 0 && catalog_refreshes_after(b->relid, failed_after) < REBUILD_RETRY_AFTER;
}

/*
 * note_failed_build
 *		The build of DT relid's state failed after its refresh refresh_id:
 *		not tried again for a while (build_failed_lately).
 */
static void
note_failed_build(Oid relid, int64 refresh_id)
{
	FailedBuild *f;

	SpinLockAcquire(&shared->mutex);
	f = &shared->failed_builds[shared->nfailed_builds];
	shared->nfailed_builds = (shared->nfailed_builds + 1) % DT_MAX_FAILED_BUILDS;
	f->dboid = MyDatabaseId;
	f->relid = relid;
	f->refresh_id = refresh_id;
	SpinLockRelease(&shared->mutex);
}

/*
 * another_worker_free
 *		Is a worker slot other than this one free or idle, so that a unit
 *		that comes due while this worker builds a state (here or in another
 *		database) gets a worker?  The caller holds the spinlock.
 */
static bool
another_worker_free(void)
{
	int			i;

	for (i = 0; i < shared->nworkers; i++)
	{
		if (i != my_worker_slot &&
			(shared->workers[i].state == WORKER_FREE || shared->workers[i].state == WORKER_IDLE))
			return true;
	}
	return false;
}

/* build_error_context: what a refresh worker's failed build was. */
static void
build_error_context(void *arg)
{
	errcontext("a refresh worker's build of the state of \"%s\" apart", (const char *) arg);
}

/*
 * build_state_work
 *		Build apart the state of the first DT of this database whose last
 *		refresh left it to be built (catalog_states_to_build) whose build
 *		has not failed lately and is expected to end before its next unit
 *		is due (build->slack_us; DtBuildWait.expected_ms).  Or even if a
 *		unit comes due meanwhile, once the full refreshes of the DT that
 *		waited for the build (DtBuildWait.waited_ms) took half as long as
 *		it is expected to (when they took as long, the DT's next refresh
 *		rebuilds it inline, build_apart_or_rebuild: the workers get the
 *		first half of the wait, in which their build can still end it): each
 *		cost a worker that long, and with tables of a short target lag under
 *		steady writes the slack is never long enough for a long build
 *		(FlakeBench's summary at 1.4M rows under 8 pgbench writers, 1 second
 *		lags: full refreshes of 9 s each waited for a build of some 30 s
 *		that could not come before the tenth refresh would rebuild the state
 *		inline).  Only while another worker slot is free or idle
 *		(another_worker_free); the worker is busy meanwhile (a DROP cancels
 *		it, workers_cancel_refresh), within pg_dynamic_tables.refresh_timeout,
 *		and takes the build's locks only if they are free (if not, the
 *		build is tried again at a later idle pass).  None where the workers
 *		build no states apart (database_builds_apart); build->none if there
 *		is none to build.
 */
static void
build_state_work(void *arg)
{
	StateBuild *build = (StateBuild *) arg;
	WorkerSlot *me = &shared->workers[my_worker_slot];
	List	   *builds = database_builds_apart() ? catalog_states_to_build() : NIL;
	ListCell   *lc;
	double		ms;
	bool		locked;
	ErrorContextCallback callback;

	build->none = builds == NIL;
	foreach(lc, builds)
	{
		DtStateToBuild *b = (DtStateToBuild *) lfirst(lc);
		int64		expected_us = (int64) (1000 * b->wait.expected_ms);
		bool		free;

		if (b->wait.expected_ms < 0 || build_failed_lately(b) ||
			(expected_us > build->slack_us && 2 * b->wait.waited_ms < b->wait.expected_ms))
			continue;
		SpinLockAcquire(&shared->mutex);
		free = another_worker_free();
		if (free)
		{
			me->state = WORKER_BUSY;
			me->since = GetCurrentTimestamp();
			me->long_refresh = expected_us >= LONG_REFRESH_US;
			me->nrelids = 0;
			me->building = b->relid;
			me->cancelled_by[0] = '\0';
		}
		SpinLockRelease(&shared->mutex);
		if (!free)
			return;
		build->relid = b->relid;
		build->refresh_id = b->refresh_id;
		pgstat_report_activity(STATE_RUNNING, psprintf("build of the state of %s", get_rel_name(b->relid)));
		if (workers_refresh_timeout > 0)
			enable_timeout_after(STATEMENT_TIMEOUT, workers_refresh_timeout);
		callback.callback = build_error_context;
		callback.arg = get_rel_name(b->relid);
		callback.previous = error_context_stack;
		error_context_stack = &callback;
		build->built = refresh_build_state(b->relid, true, &locked, &ms);
		error_context_stack = callback.previous;
		if (workers_refresh_timeout > 0)
			disable_timeout(STATEMENT_TIMEOUT, false);
		if (build->built)
			ereport(LOG, (errmsg("pg_dynamic_tables built the state of \"%s\" apart in %.0f ms",
								 get_rel_name(b->relid), ms)));
		return;
	}
}

/*
 * build_state_when_idle
 *		With no unit due before wake, and a refresh of this database that
 *		left a state to be built apart committed since a look found none
 *		(builds_wanted: an idle worker of a database that has none runs no
 *		query, figure 9's idle cost), build the state of a DT apart
 *		(build_state_work), in a transaction of its own, at most once every
 *		BUILD_LOOK_US; returns whether one was tried.  One that failed is
 *		not tried again before REBUILD_RETRY_AFTER refreshes of its DT
 *		(note_failed_build); one whose locks were not free, or that did not
 *		fit before the next unit, is tried again at a later idle pass.
 */
static bool
build_state_when_idle(TimestampTz now, TimestampTz wake)
{
	StateBuild	build = {wake - now, InvalidOid, 0, false, false};
	DbSlot	   *db;
	uint32		requests = 0;
	bool		wanted = false;
	bool		failed;
	bool		cancelled;

	if (wake <= now || now - build_looked_at < BUILD_LOOK_US)
		return false;
	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
	{
		requests = db->build_requests;
		wanted = requests != db->build_looked;
	}
	SpinLockRelease(&shared->mutex);
	if (!wanted)
		return false;
	build_looked_at = now;
	(void) in_transaction(build_state_work, &build);
	if (build.none && !transaction_failed)
	{
		/* none to build: the next look waits for the next request */
		SpinLockAcquire(&shared->mutex);
		db = find_db(MyDatabaseId);
		if (db != NULL)
			db->build_looked = requests;
		SpinLockRelease(&shared->mutex);
	}
	if (!OidIsValid(build.relid))
		return false;
	failed = transaction_failed;
	if (workers_refresh_timeout > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);
	LockReleaseSession(USER_LOCKMETHOD);
	cancelled = refresh_cancelled() != NULL;
	if (failed && !cancelled)
		note_failed_build(build.relid, build.refresh_id);
	idle_again();
	return build.built || failed;
}

/*
 * attach
 *		Take the worker slot the launcher started this process for; returns
 *		its database.
 */
static Oid
attach(void)
{
	Oid			dboid;

	SpinLockAcquire(&shared->mutex);
	dboid = shared->workers[my_worker_slot].dboid;
	started_at = shared->workers[my_worker_slot].since;
	started_for = shared->workers[my_worker_slot].started_for;
	SpinLockRelease(&shared->mutex);
	before_shmem_exit(refresh_worker_exit, (Datum) 0);
	return dboid;
}

/*
 * started
 *		This worker's first pass is over (its first unit run, or none
 *		due): count what its start cost in the launcher's moving average,
 *		held within START_COST_MIN_US and START_COST_MAX_US.
 */
static void
started(void)
{
	int64		cost = GetCurrentTimestamp() - started_at;

	cost = Min(Max(cost, START_COST_MIN_US), START_COST_MAX_US);
	SpinLockAcquire(&shared->mutex);
	shared->start_cost_us = (3 * shared->start_cost_us + cost) / 4;
	SpinLockRelease(&shared->mutex);
	started_at = 0;
}

/* leave_database: no extension here: not tried again for a while. */
static void
leave_database(void)
{
	DbSlot	   *db;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
	{
		db->no_extension = true;
		db->not_before = GetCurrentTimestamp() + NO_EXTENSION_RETRY_US;
		db->next_due = 0;
		db->waiting = 0;
		db->starved_since = 0;
	}
	SpinLockRelease(&shared->mutex);
	proc_exit(0);
}

/* schedule_generation: this database's schedule generation. */
static uint32
schedule_generation(void)
{
	DbSlot	   *db;
	uint32		generation = 0;

	SpinLockAcquire(&shared->mutex);
	db = find_db(MyDatabaseId);
	if (db != NULL)
		generation = db->generation;
	SpinLockRelease(&shared->mutex);
	return generation;
}

/*
 * leave
 *		Exit, idle: from now on a commit that makes a unit of this database
 *		due tells the launcher when (writes_committing), so plan once more
 *		and tell it when the next unit is due, counting the commits that
 *		woke this worker too late; entries are the schedule of generation
 *		planned, and a change since (a DT created, say) is due at once.
 */
static void
leave(List *entries, uint32 planned)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wake = DT_NOEND;
	List	   *units;
	bool		keep_last;
	bool		due = false;
	bool		held = false;
	ListCell   *lc;

	SpinLockAcquire(&shared->mutex);
	shared->workers[my_worker_slot].state = WORKER_LEAVING;
	SpinLockRelease(&shared->mutex);
	units = schedule_plan(entries, now, start_delay(), unavailable_relids(now, &wake), &wake,
						  unit_is_current, NULL);

	/*
	 * A long unit that no worker would take now (claim_unit) is not due for
	 * the launcher: it is, with held_since, when a worker is free for it
	 * (neediest_database).
	 */
	SpinLockAcquire(&shared->mutex);
	keep_last = keep_last_worker(entries, now);
	foreach(lc, units)
	{
		if (leaves_unit(entries, (List *) lfirst(lc), keep_last))
			held = true;
		else
			due = true;
	}
	note_held(held, now);
	SpinLockRelease(&shared->mutex);
	publish(due ? now : wake, 0, &planned);
	proc_exit(0);
}

/*
 * worker_loop
 *		Plan, claim a unit, run it; or sleep until the next unit is due or
 *		something wakes the worker.  Exits when asked, after thirty idle
 *		seconds, or when the extension is gone.
 *
 * The schedule is read again when the database's generation moved, after
 * a refresh that left its unit unwatched or of a unit it took for
 * unpopulated (its data timestamp, or whether it is populated, is then
 * known only from the catalog: run_unit), and every ten
 * seconds (the refresh times, from which each DT's lead follows); it
 * lives in schedule_cxt.  After a watched refresh, the watch tells when
 * the unit was current (unit_is_current): reading the schedule again, a
 * transaction and three catalog queries, was most of a small refresh's
 * fixed cost at a 100 ms lag.  What one pass plans lives in
 * pass_cxt, reset every pass.
 */
static void
worker_loop(void)
{
	MemoryContext schedule_cxt = AllocSetContextCreate(TopMemoryContext, "pg_dynamic_tables schedule",
													   ALLOCSET_DEFAULT_SIZES);
	MemoryContext pass_cxt = AllocSetContextCreate(TopMemoryContext, "pg_dynamic_tables pass",
												   ALLOCSET_DEFAULT_SIZES);
	ScheduleLoad load = {schedule_cxt, NIL};
	uint32		seen = schedule_generation() - 1;
	TimestampTz housekept_at = 0;
	TimestampTz idle_since = GetCurrentTimestamp();
	TimestampTz planned_at = 0;
	bool		reload = true;

	for (;;)
	{
		TimestampTz now;
		TimestampTz wake;
		List	   *unit;
		List	   *busy;
		int			left;
		bool		quit;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			reload = true;
		}
		if (schedule_generation() != seen)
		{
			seen = schedule_generation();
			reload = true;
		}
		now = GetCurrentTimestamp();
		/* housekeeping on its own clock: a busy worker reloads constantly */
		if (now - housekept_at >= HOUSEKEEPING_US)
		{
			(void) in_transaction(trim_history_work, NULL);
			(void) in_transaction(release_capture_work, NULL);
			housekept_at = now;
			reload = true;
		}
		if (reload)
		{
			MemoryContextReset(schedule_cxt);
			load.entries = NIL;
			if (!in_transaction(load_schedule_work, &load))
				leave_database();
			rewatch(load.entries);
			reload = false;
			now = GetCurrentTimestamp();
		}

		MemoryContextReset(pass_cxt);
		MemoryContextSwitchTo(pass_cxt);
		wake = DT_NOEND;
		busy = unavailable_relids(now, &wake);

		/*
		 * Started for a unit due later (its database's turn came before it,
		 * neediest_database): run it now, rather than hold a worker slot idle
		 * until then that another database waits for.
		 */
		unit = claim_unit(schedule_plan(load.entries, Max(now, started_for), start_delay(), busy, &wake,
										unit_is_current, NULL), load.entries, &left);
		publish(wake, left, NULL);

		/*
		 * How late the unit is claimed, if it came due since the last pass (a
		 * unit due then, which waited for its inputs' locks or for a refresh
		 * of it to end, says nothing of how soon a worker starts one), and
		 * after this worker's last refresh ended if it is the unit it ran
		 * last (refreshed back to back, it is late by its own refresh; but
		 * due after, it is the only unit of a database whose worker stays,
		 * whose start delay, a late start's, would otherwise never decay: its
		 * refreshes came at half its lag for good).  On the first pass, if
		 * the launcher started this worker for a unit due at started_for: how
		 * late it came for it (a worker asked to exit elsewhere, the
		 * process's start and connection, the launcher woken late), the start
		 * delay of every unit of a database that shares the workers with
		 * others and has none between its units.  A unit due before the
		 * launcher knew when (started_for 0: after a restart, a schedule
		 * changed, units left waiting) says nothing of it.
		 */
		if (unit != NIL)
		{
			TimestampTz due_at = schedule_due_at(load.entries, llast_oid(unit));

			if (planned_at != 0 && due_at > planned_at &&
				(llast_oid(unit) != ran_last || due_at > ran_last_end))
				note_start_delay(GetCurrentTimestamp() - due_at);
			else if (planned_at == 0 && started_for != 0)
				note_start_delay(GetCurrentTimestamp() - Max(due_at, started_for));
		}
		planned_at = now;
		if (unit != NIL)
			ran_last = llast_oid(unit);
		if (unit != NIL)
			reload = !run_unit(unit, load.entries);
		else
			started_for = 0;
		if (started_at != 0)
			started();
		if (unit != NIL)
		{
			idle_since = ran_last_end = GetCurrentTimestamp();
			continue;
		}

		SpinLockAcquire(&shared->mutex);
		quit = shared->workers[my_worker_slot].quit;
		SpinLockRelease(&shared->mutex);
		if (!quit && build_state_when_idle(now, wake))
		{
			idle_since = GetCurrentTimestamp();
			reload = true;
			continue;
		}
		compact_logs(NIL, quit || now - idle_since >= WORKER_IDLE_TIMEOUT_US, &wake);
		if (quit || now - idle_since >= WORKER_IDLE_TIMEOUT_US)
			leave(load.entries, seen);
		wake = Min(wake, now + HOUSEKEEPING_US);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max((wake - GetCurrentTimestamp()) / 1000, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * dt_refresh_worker_main
 *		Entry point of a refresh worker; arg is its slot.
 */
void
dt_refresh_worker_main(Datum arg)
{
	Oid			dboid;

	my_worker_slot = DatumGetInt32(arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	reload_missed_at_start();
	dboid = attach();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("pg_dynamic_tables refresh worker");

	/*
	 * Settings an ALTER DATABASE or ROLE ... SET made for sessions must not
	 * fail scheduled refreshes, as autovacuum ignores them too: a refresh
	 * must see what committed before it began
	 * (refresh_require_read_committed), it writes (under
	 * default_transaction_read_only, a database owner's to set, every refresh
	 * failed, and so did the insert of its failure into the history), and it
	 * waits for locks as long as pg_dynamic_tables.refresh_timeout lets it (a
	 * lock_timeout would fail it, and then suspend its table, each time a
	 * lock it needs is held a moment: those of its inputs it only tries).
	 */
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);

	/*
	 * Nor may a database's search_path choose the functions and operators of
	 * the catalog queries this worker runs as the bootstrap superuser
	 * (database_setting's starts_with, the history's strpos ...), as
	 * autovacuum pins it too: the database's owner, no superuser, made public
	 * come before pg_catalog there (ALTER DATABASE ... SET search_path) and a
	 * public.starts_with(text, text) of hers made her a superuser at the
	 * worker's next pass.
	 */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	SpinLockAcquire(&shared->mutex);
	shared->workers[my_worker_slot].pid = MyProcPid;
	shared->workers[my_worker_slot].latch = MyLatch;
	shared->workers[my_worker_slot].state = WORKER_IDLE;
	SpinLockRelease(&shared->mutex);
	worker_loop();
}
