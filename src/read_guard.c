/*-------------------------------------------------------------------------
 *
 * read_guard.c
 *		Reading a dynamic table that has not been populated is an error, as
 *		reading a materialized view created WITH NO DATA is.
 *
 * A DT created with initialize => 'on_schedule' (or redefined so) is empty
 * until its first refresh; a query that reads it then would answer with
 * no rows, silently.  The ExecutorStart hook refuses such a query instead,
 * with PostgreSQL's own rule for materialized views: EXPLAIN without
 * ANALYZE, and WITH NO DATA, still work, and only the relations the
 * statement reads count (not those it writes).  pg_dump is not affected:
 * it copies a table's rows with COPY, which does not run the executor (so
 * does not pg_dump --inserts, whose SELECT is refused).  The statements of
 * a refresh, which empty and fill DTs and read the DTs upstream of them,
 * are let through, and so are parallel workers, which run part of a plan
 * their leader checked.
 *
 * The hook also marks the change logs of a MERGE that may move rows between
 * partitions (mark_merge_moves): PostgreSQL 15 leaves such a move out of
 * the transition tables of the statement triggers that fire.  With the
 * ExecutorFinish hook, it tells capture.c which statements writing tables
 * run, whose rows are not captured until they finish (no refresh may read
 * them from within: note_running_writes).
 *
 * Cost for every other statement: for each table it reads, one look at its
 * relcache entry's triggers (only a DT has the dt_guard trigger).  Whether
 * a DT is populated is read from the catalog once per backend and kept
 * until the DT's relcache entry is invalidated, which a refresh that
 * populates it does (refresh_one) and a redefinition does (its dt_guard
 * trigger is rewritten).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "executor/executor.h"
#include "parser/parsetree.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "entry.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;

/* Whether a DT is populated, by relid, as this backend last read it. */
typedef struct PopulatedEntry
{
	Oid			relid;
	bool		populated;
} PopulatedEntry;

static HTAB *populated_cache = NULL;

/* populated_relcache_callback: forget what is known of a changed relation. */
static void
populated_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	PopulatedEntry *e;

	if (populated_cache == NULL)
		return;
	if (OidIsValid(relid))
	{
		hash_search(populated_cache, &relid, HASH_REMOVE, NULL);
		return;
	}
	hash_seq_init(&status, populated_cache);
	while ((e = hash_seq_search(&status)) != NULL)
		hash_search(populated_cache, &e->relid, HASH_REMOVE, NULL);
}

/* has_guard_trigger: has relation relid (locked) the dt_guard trigger of a DT? */
static bool
has_guard_trigger(Oid relid)
{
	Relation	rel = RelationIdGetRelation(relid);
	bool		found = false;
	int			i;

	if (!RelationIsValid(rel))
		return false;
	for (i = 0; !found && rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &rel->trigdesc->triggers[i];

		found = strcmp(trigger->tgname, DT_GUARD_TRIGGER) == 0 &&
			catalog_is_guard_function(trigger->tgfoid);
	}
	RelationClose(rel);
	return found;
}

/* is_populated: false for a DT not populated yet; true for anything else. */
static bool
is_populated(Oid relid)
{
	PopulatedEntry *e;
	bool		found;

	if (!has_guard_trigger(relid))
		return true;
	if (populated_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(PopulatedEntry);
		populated_cache = hash_create("pg_dynamic_tables populated", 16, &ctl,
									  HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(populated_relcache_callback, (Datum) 0);
	}
	e = hash_search(populated_cache, &relid, HASH_FIND, &found);
	if (!found)
	{
		bool		populated = catalog_is_populated(relid);

		e = hash_search(populated_cache, &relid, HASH_ENTER, NULL);
		e->populated = populated;
	}
	return e->populated;
}

/*
 * unpopulated_error
 *		The error of a read of DT relid, not populated.  An internal DT is
 *		not refreshed on its own (dt.refresh refuses it): the hint names the
 *		DT that owns it, which fills it again when it rebuilds its state.
 */
static void
unpopulated_error(Oid relid)
{
	Oid			parent = names_internal_parent(relid);
	char	   *owner = OidIsValid(parent) ? get_rel_name(parent) : NULL;

	if (!OidIsValid(parent))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("dynamic table \"%s\" has not been populated", get_rel_name(relid)),
				 errdetail("It was created with initialize => 'on_schedule' and has not been refreshed yet."),
				 errhint("Wait for its first scheduled refresh, or refresh it with dt.refresh().")));
	if (owner == NULL)			/* the owner was dropped meanwhile */
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("dynamic table \"%s\" has not been populated", get_rel_name(relid)),
				 errdetail("It is an internal table of a dynamic table, set aside while that is refreshed in full from its query.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("dynamic table \"%s\" has not been populated", get_rel_name(relid)),
			 errdetail("It is an internal table of dynamic table \"%s\", set aside while that is refreshed in full from its query.",
					   owner),
			 errhint("Read or refresh dynamic table \"%s\" instead: an internal table is refreshed with the table that owns it, and filled again when that goes back to incremental refreshes.",
					 owner)));
}

/*
 * refuse_unpopulated_reads
 *		Raise an error if the statement reads a DT that is not populated.
 */
static void
refuse_unpopulated_reads(PlannedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		Index		rti = foreach_current_index(lc) + 1;

		if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION ||
			list_member_int(stmt->resultRelations, rti) || is_populated(rte->relid))
			continue;
		unpopulated_error(rte->relid);
	}
}

/*
 * mark_merge_moves
 *		A MERGE whose UPDATE action sets a partition key column may move a
 *		row to another partition, and PostgreSQL 15 puts a moved row into
 *		the transition tables of INSERT and DELETE, not UPDATE's: those
 *		statement triggers fire only for the actions the MERGE has, so its
 *		capture would miss the move, or count half of it.  Before it runs, a
 *		rebuild marker goes into the change logs of its target and of the
 *		target's captured ancestors (rolled back with it), so that the DTs
 *		reading them are refreshed in full after it.
 */
static void
mark_merge_moves(PlannedStmt *stmt)
{
	ModifyTable *mt = (ModifyTable *) stmt->planTree;
	Oid			target;
	List	   *logged;
	ListCell   *lc;

	if (stmt->commandType != CMD_MERGE || !IsA(mt, ModifyTable) || !mt->partColsUpdated ||
		mt->rootRelation == 0)
		return;
	target = rt_fetch(mt->rootRelation, stmt->rtable)->relid;
	logged = capture_ancestors_of(target);
	if (capture_relation_is_captured(target))
		logged = lcons_oid(target, logged);
	foreach(lc, logged)
	{
		capture_mark_rebuild(lfirst_oid(lc));
		workers_note_write(lfirst_oid(lc), true);
	}
}

/*
 * note_running_writes
 *		A statement that writes tables starts: until it finishes, its rows
 *		are not captured, and no refresh may read them
 *		(capture_statement_starts).
 */
static void
note_running_writes(QueryDesc * queryDesc)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, stmt->resultRelations)
		relids = lappend_oid(relids, rt_fetch(lfirst_int(lc), stmt->rtable)->relid);
	if (relids != NIL)
		capture_statement_starts(queryDesc, relids);
	/* copied: made in the caller's context, which a SQL function keeps */
	list_free(relids);
}

/* dt_executor_start: the ExecutorStart hook. */
static void
dt_executor_start(QueryDesc * queryDesc, int eflags)
{
	/* a parallel worker runs part of a plan its leader checked */
	if ((eflags & (EXEC_FLAG_EXPLAIN_ONLY | EXEC_FLAG_WITH_NO_DATA)) == 0 && !refresh_running() &&
		!IsParallelWorker())
	{
		refuse_unpopulated_reads(queryDesc->plannedstmt);
		mark_merge_moves(queryDesc->plannedstmt);
	}
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
		note_running_writes(queryDesc);
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * dt_executor_finish: the ExecutorFinish hook.  The statement's AFTER
 * triggers have fired, its capture's among them.
 */
static void
dt_executor_finish(QueryDesc * queryDesc)
{
	if (prev_ExecutorFinish)
		prev_ExecutorFinish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);
	capture_statement_finished(queryDesc);
}

/* read_guard_install: register the executor hooks (from _PG_init). */
void
read_guard_install(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = dt_executor_start;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = dt_executor_finish;
}
