/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *		Running prepared statements through SPI, reading their rows, and
 *		running work in a subtransaction of its own.
 *
 * Every file that reads SPI's results does it the same way: the rows are
 * in SPI_tuptable, allocated in SPI's procedure context, which SPI_finish
 * frees, so what outlives the SPI connection is built in the caller's
 * memory context (spi_util_foreach_row, spi_util_oids).  A NULL read by
 * spi_util_int64, spi_util_bool or spi_util_oid is 0, false or InvalidOid,
 * as DatumGetInt64 and friends read the Datum SPI gives for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "miscadmin.h"
#include "utils/plancache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "common.h"

/*
 * spi_util_foreach_row
 *		Call fn(tuple, descriptor, arg) for every row of SPI_tuptable, with
 *		the caller's memory context current (the context SPI_connect was
 *		called in), so that what fn builds survives SPI_finish.
 */
void
spi_util_foreach_row(MemoryContext caller, SpiRowFunction fn, void *arg)
{
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		fn(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, arg);
		MemoryContextSwitchTo(spi);
	}
}

/* append_oid: spi_util_oids's row function. */
static void
append_oid(HeapTuple tuple, TupleDesc desc, void *arg)
{
	List	  **oids = (List **) arg;
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, 1, &isnull);

	if (!isnull)
		*oids = lappend_oid(*oids, DatumGetObjectId(d));
}

/*
 * spi_util_oids
 *		The first column of every row of SPI_tuptable, an oid, as a List
 *		allocated in the caller's context; NULLs are left out.
 */
List *
spi_util_oids(MemoryContext caller)
{
	List	   *oids = NIL;

	spi_util_foreach_row(caller, append_oid, &oids);
	return oids;
}

/* spi_util_datum: column col (1-based) of row of SPI_tuptable. */
Datum
spi_util_datum(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* spi_util_int64: column col of row, a bigint. */
int64
spi_util_int64(uint64 row, int col)
{
	bool		isnull;

	return DatumGetInt64(spi_util_datum(row, col, &isnull));
}

/* spi_util_bool: column col of row, a boolean. */
bool
spi_util_bool(uint64 row, int col)
{
	bool		isnull;

	return DatumGetBool(spi_util_datum(row, col, &isnull));
}

/* spi_util_oid: column col of row, an oid. */
Oid
spi_util_oid(uint64 row, int col)
{
	bool		isnull;

	return DatumGetObjectId(spi_util_datum(row, col, &isnull));
}

/*
 * spi_util_run
 *		Run a prepared statement of a refresh in snapshot S, seeing the
 *		transaction's own earlier writes, with AFTER triggers fired at its
 *		end (the capture triggers of a DT that other DTs read).  Returns
 *		the rows processed; the result is in SPI_tuptable.  A NULL plan
 *		(a statement the DT has not) does nothing.  The caller's memory
 *		context stays current.
 */
uint64
spi_util_run(SPIPlanPtr plan, Datum *values, const char *nulls, Snapshot snapshot)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc;

	if (plan == NULL)
		return 0;
	rc = SPI_execute_snapshot(plan, values, nulls, snapshot, InvalidSnapshot, false, true, 0);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "refresh statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * spi_util_is_parallel
 *		Does the plan PostgreSQL would run for a prepared statement now (of
 *		one query, without parameters) use parallel workers?  *cost: its
 *		estimated total cost (-1 if it is not one query).
 */
bool
spi_util_is_parallel(SPIPlanPtr plan, Cost * cost)
{
	CachedPlan *cplan = SPI_plan_get_cached_plan(plan);
	bool		parallel = false;

	*cost = -1;
	if (cplan == NULL)
		return false;
	if (list_length(cplan->stmt_list) == 1)
	{
		PlannedStmt *stmt = linitial_node(PlannedStmt, cplan->stmt_list);

		parallel = stmt->parallelModeNeeded;
		if (stmt->planTree != NULL)
			*cost = stmt->planTree->total_cost;
	}
	ReleaseCachedPlan(cplan, CurrentResourceOwner);
	return parallel;
}

/*
 * spi_util_run_to_store
 *		Run a prepared SELECT (without parameters) as of snapshot, as a
 *		statement after the transaction's earlier ones (so that it sees what
 *		they wrote), read-only, so that its plan may use parallel workers;
 *		its rows, detoasted, go to a tuplestore (spilled to disk beyond
 *		work_mem), which is returned with their descriptor (*desc).
 */
Tuplestorestate *
spi_util_run_to_store(SPIPlanPtr plan, Snapshot snapshot, TupleDesc *desc)
{
	MemoryContext cxt = CurrentMemoryContext;
	Tuplestorestate *store = tuplestore_begin_heap(false, false, work_mem);
	DestReceiver *dest = CreateDestReceiver(DestTuplestore);
	SPIExecuteOptions options = {0};
	List	   *sources = SPI_plan_get_plan_sources(plan);
	int			rc;

	if (list_length(sources) != 1)
		elog(ERROR, "a statement of one query was expected");
	SetTuplestoreDestReceiverParams(dest, store, cxt, true, NULL, NULL);
	options.read_only = true;
	options.dest = dest;
	CommandCounterIncrement();
	PushCopiedSnapshot(snapshot);
	UpdateActiveSnapshotCommandId();
	rc = SPI_execute_plan_extended(plan, &options);
	PopActiveSnapshot();
	MemoryContextSwitchTo(cxt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "refresh statement failed: %s", SPI_result_code_string(rc));
	dest->rDestroy(dest);
	*desc = CreateTupleDescCopy(((CachedPlanSource *) linitial(sources))->resultDesc);
	return store;
}

/*
 * spi_util_in_subtransaction
 *		Run work(arg) in a subtransaction of its own.  Returns NULL when it
 *		succeeded (the subtransaction is committed), or the error it raised,
 *		copied, after rolling the subtransaction back.  Either way the
 *		caller's memory context and resource owner are current again.
 */
ErrorData *
spi_util_in_subtransaction(void (*work) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		work(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return edata;
}
