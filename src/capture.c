/*-------------------------------------------------------------------------
 *
 * capture.c
 *		Change logs, and the triggers that fill them in the writing
 *		transaction.
 *
 * Every relation a DT reads gets one change log, dt_internal.changes_<oid>,
 * shared by all the DTs that read it:
 *
 *		dt$xid	xid8	the writing transaction (top level)
 *		dt$cid	int4	the command within it
 *		dt$sign	int2	+1 inserted row, -1 deleted row, 0 rebuild marker
 *		a<N>	...		base column N, for the columns some DT needs
 *
 * An UPDATE is a deleted old row and an inserted new row; a pair whose
 * captured columns did not change is not written at all.  TRUNCATE, and
 * rows that arrive or leave without DML (ATTACH, DETACH, DROP of a
 * partition), write a marker instead, and consumers rebuild; so does a
 * bulk load, an INSERT or DELETE of a fifth of the rows its log captures
 * or more (bulk_statement), which every consumer refreshes in full anyway.
 *
 * Capture is four AFTER ... FOR EACH STATEMENT triggers per table with
 * transition tables (PostgreSQL allows one event per trigger with them),
 * ENABLE ALWAYS so that session_replication_role does not switch them off.
 * Partitions and inheritance children get the same triggers writing to the
 * root's log: DML through the root fires only the root's statement
 * triggers, DML on a partition only the partition's.  The trigger writes
 * with table_multi_insert, without SPI or planning, so a statement costs
 * one trigger call and one batched insert into an index-free table.
 *
 * Which changes a refresh consumes is decided by position, not by order:
 * a DT records the snapshot, transaction and command id of its last
 * refresh; a change was consumed iff its transaction was visible in that
 * snapshot or, for the refreshing transaction itself, came from an earlier
 * command.  Commit order does not matter, and several DTs keep their own
 * positions over one log.  capture_cleanup deletes rows every reader has
 * consumed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/plancat.h"
#include "parser/parse_func.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/xid8.h"

#include "catalog/pg_trigger.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "catalog.h"

#define CAPTURE_BATCH 1000

/* A log of fewer pages is read in well under a millisecond: left alone. */
#define LOG_COMPACT_PAGES 128


/*
 * Column maps, cached per (trigger relation, log): for each log column
 * after the three meta columns, the attribute of the trigger relation's
 * rows that feeds it.  A relcache invalidation of any relation marks the
 * cache stale; it is rebuilt at the next trigger call, never while in use.
 */
typedef struct CaptureMapKey
{
	Oid			trigrelid;
	Oid			logrelid;
} CaptureMapKey;

typedef struct CaptureMap
{
	CaptureMapKey key;
	int			ncols;			/* captured columns */
	AttrNumber	src[FLEXIBLE_ARRAY_MEMBER];
} CaptureMap;

static List *captured_ancestors(Oid child);

static HTAB *capture_maps = NULL;
static bool capture_maps_stale = false;

/* capture_relcache_callback: any relation changed, rebuild maps lazily. */
static void
capture_relcache_callback(Datum arg, Oid relid)
{
	capture_maps_stale = true;
}

/*
 * is_change_log
 *		Is log the change log of rootoid: a table of the extension owner in
 *		dt_internal named for rootoid, starting with the three meta columns?
 */
static bool
is_change_log(Relation log, Oid rootoid)
{
	TupleDesc	desc = RelationGetDescr(log);

	return log->rd_rel->relkind == RELKIND_RELATION &&
		RelationGetNamespace(log) == names_internal_namespace() &&
		log->rd_rel->relowner == catalog_extension_owner() &&
		strcmp(RelationGetRelationName(log), names_internal(DT_OBJECT_CHANGES, rootoid, 0)) == 0 &&
		desc->natts >= 3 &&
		TupleDescAttr(desc, 0)->atttypid == XID8OID &&
		TupleDescAttr(desc, 1)->atttypid == INT4OID &&
		TupleDescAttr(desc, 2)->atttypid == INT2OID;
}

/*
 * check_capture_target
 *		The trigger arguments of a capture trigger on trigrel name log and
 *		rootoid: log must be the change log of rootoid, and trigrel rootoid
 *		itself or one of its captured descendants.  Only the extension
 *		installs these triggers (nobody else may execute the function), but
 *		a trigger made by hand must not write into any other table.
 */
static void
check_capture_target(Relation trigrel, Relation log, Oid rootoid)
{
	if (!is_change_log(log, rootoid) ||
		(RelationGetRelid(trigrel) != rootoid &&
		 !list_member_oid(captured_ancestors(RelationGetRelid(trigrel)), rootoid)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dt_internal.capture_changes() on \"%s\" does not name a change log of pg_dynamic_tables",
						RelationGetRelationName(trigrel)),
				 errdetail("Its arguments must be the change log of a captured table and that table.")));
}

/*
 * get_capture_map
 *		The column map from rows of trigrel to the log, mapping root column
 *		numbers by name when trigrel is a partition or child of the root.
 *		Built completely before it enters the cache, so that an error while
 *		building it leaves no half-made entry behind.
 */
static CaptureMap *
get_capture_map(Relation trigrel, Relation log, Oid rootoid)
{
	CaptureMapKey key = {RelationGetRelid(trigrel), RelationGetRelid(log)};
	CaptureMap *map;
	TupleDesc	logdesc = RelationGetDescr(log);
	int			ncols = logdesc->natts - 3;
	AttrNumber *src;
	int			i;

	if (capture_maps == NULL || capture_maps_stale)
	{
		HASHCTL		ctl;

		if (capture_maps == NULL)
			CacheRegisterRelcacheCallback(capture_relcache_callback, (Datum) 0);
		else
			hash_destroy(capture_maps);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(CaptureMapKey);
		ctl.entrysize = offsetof(CaptureMap, src) + sizeof(AttrNumber) * MaxHeapAttributeNumber;
		capture_maps = hash_create("pg_dynamic_tables capture maps", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS);
		capture_maps_stale = false;
	}

	map = hash_search(capture_maps, &key, HASH_FIND, NULL);
	if (map != NULL)
		return map;

	check_capture_target(trigrel, log, rootoid);
	src = palloc(sizeof(AttrNumber) * Max(ncols, 1));
	for (i = 0; i < ncols; i++)
	{
		Form_pg_attribute att = TupleDescAttr(logdesc, i + 3);
		AttrNumber	rootatt;

		src[i] = InvalidAttrNumber;
		if (att->attisdropped || sscanf(NameStr(att->attname), "a%hd", &rootatt) != 1)
			continue;
		if (RelationGetRelid(trigrel) == rootoid)
			src[i] = rootatt;
		else
		{
			char	   *name = get_attname(rootoid, rootatt, true);

			if (name != NULL)
				src[i] = get_attnum(RelationGetRelid(trigrel), name);
		}
		if (src[i] != InvalidAttrNumber)
		{
			Form_pg_attribute from;

			if (src[i] < 1 || src[i] > RelationGetDescr(trigrel)->natts)
				src[i] = InvalidAttrNumber;
			else if ((from = TupleDescAttr(RelationGetDescr(trigrel), src[i] - 1))->attisdropped ||
					 getBaseType(from->atttypid) != att->atttypid)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("change log of \"%s\" does not match its column \"%s\"",
								get_rel_name(rootoid), NameStr(from->attname)),
						 errhint("Drop and recreate the dynamic tables that read \"%s\".",
								 get_rel_name(rootoid))));
		}
	}

	map = hash_search(capture_maps, &key, HASH_ENTER, NULL);
	map->ncols = ncols;
	memcpy(map->src, src, sizeof(AttrNumber) * ncols);
	pfree(src);
	return map;
}

/* A batch of log rows on their way to table_multi_insert. */
typedef struct LogWriter
{
	Relation	log;
	CaptureMap *map;
	TupleTableSlot *slots[CAPTURE_BATCH];
	int			nslots;
	int			nused;
	BulkInsertState bistate;
	CommandId	cid;
	Datum		xid;
} LogWriter;

/* writer_flush: insert the rows of the batch into the log. */
static void
writer_flush(LogWriter *w)
{
	if (w->nused == 0)
		return;
	table_multi_insert(w->log, w->slots, w->nused, w->cid, 0, w->bistate);
	w->nused = 0;
}

/*
 * writer_next_slot
 *		An empty slot of the batch, flushing a full batch.  A statement of
 *		more rows than a batch writes them with a bulk insert state (the log
 *		page kept pinned between batches, and a ring of buffers, so that a
 *		bulk load does not push the rest out of shared buffers); a smaller
 *		one, a single-row INSERT say, does without one (allocating its ring
 *		is a good part of the cost of capturing a row).
 */
static TupleTableSlot *
writer_next_slot(LogWriter *w)
{
	TupleTableSlot *slot;

	if (w->nused == CAPTURE_BATCH)
	{
		if (w->bistate == NULL)
			w->bistate = GetBulkInsertState();
		writer_flush(w);
	}
	if (w->nused == w->nslots)
		w->slots[w->nslots++] = table_slot_create(w->log, NULL);
	slot = w->slots[w->nused++];
	ExecClearTuple(slot);
	return slot;
}

/* writer_add: one log row from a source row (NULL: a marker). */
static void
writer_add(LogWriter *w, TupleTableSlot *src, int sign)
{
	TupleTableSlot *dst = writer_next_slot(w);
	int			i;

	dst->tts_values[0] = w->xid;
	dst->tts_isnull[0] = false;
	dst->tts_values[1] = Int32GetDatum((int32) w->cid);
	dst->tts_isnull[1] = false;
	dst->tts_values[2] = Int16GetDatum((int16) sign);
	dst->tts_isnull[2] = false;
	for (i = 0; i < w->map->ncols; i++)
	{
		AttrNumber	a = w->map->src[i];

		if (src == NULL || a == InvalidAttrNumber)
		{
			dst->tts_values[i + 3] = (Datum) 0;
			dst->tts_isnull[i + 3] = true;
		}
		else
			dst->tts_values[i + 3] = slot_getattr(src, a, &dst->tts_isnull[i + 3]);
	}
	ExecStoreVirtualTuple(dst);
	ExecMaterializeSlot(dst);	/* copy out of the source row */
}

/* same_captured_values: do two rows agree on every captured column? */
static bool
same_captured_values(LogWriter *w, TupleTableSlot *a, TupleTableSlot *b)
{
	TupleDesc	desc = a->tts_tupleDescriptor;
	int			i;

	for (i = 0; i < w->map->ncols; i++)
	{
		AttrNumber	att = w->map->src[i];
		bool		null_a,
					null_b;
		Datum		va,
					vb;
		Form_pg_attribute form;

		if (att == InvalidAttrNumber)
			continue;
		va = slot_getattr(a, att, &null_a);
		vb = slot_getattr(b, att, &null_b);
		if (null_a != null_b)
			return false;
		if (null_a)
			continue;
		form = TupleDescAttr(desc, att - 1);
		if (!datumIsEqual(va, vb, form->attbyval, form->attlen))
			return false;
	}
	return true;
}

/*
 * store_reader
 *		Position our own read pointer at the start of a transition table,
 *		so that other triggers reading the same tuplestore are undisturbed.
 */
static void
store_reader(Tuplestorestate *store)
{
	int			ptr = tuplestore_alloc_read_pointer(store, EXEC_FLAG_REWIND);

	tuplestore_select_read_pointer(store, ptr);
	tuplestore_rescan(store);
}

/* write_store: every row of a transition table, with sign. */
static void
write_store(LogWriter *w, Tuplestorestate *store, TupleDesc desc, int sign)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);

	store_reader(store);
	while (tuplestore_gettupleslot(store, true, false, slot))
		writer_add(w, slot, sign);
	tuplestore_select_read_pointer(store, 0);
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * write_update
 *		Old rows as deletes, new rows as inserts, except pairs (the i-th old
 *		and i-th new row) whose captured columns are all unchanged.  Skipping
 *		an identical pair is right whatever rows the pair really were: it
 *		removes -x and +x from the delta, which leaves the delta as it was.
 */
static void
write_update(LogWriter *w, Tuplestorestate *olds, Tuplestorestate *news, TupleDesc desc)
{
	TupleTableSlot *o = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	TupleTableSlot *n = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			optr,
				nptr;
	bool		have_o,
				have_n;

	optr = tuplestore_alloc_read_pointer(olds, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(olds, optr);
	tuplestore_rescan(olds);
	nptr = tuplestore_alloc_read_pointer(news, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(news, nptr);
	tuplestore_rescan(news);
	for (;;)
	{
		tuplestore_select_read_pointer(olds, optr);
		have_o = tuplestore_gettupleslot(olds, true, false, o);
		tuplestore_select_read_pointer(news, nptr);
		have_n = tuplestore_gettupleslot(news, true, false, n);
		if (!have_o && !have_n)
			break;
		if (have_o && have_n && same_captured_values(w, o, n))
			continue;
		if (have_o)
			writer_add(w, o, DT_SIGN_DELETE);
		if (have_n)
			writer_add(w, n, DT_SIGN_INSERT);
	}
	tuplestore_select_read_pointer(olds, 0);
	tuplestore_select_read_pointer(news, 0);
	ExecDropSingleTupleTableSlot(o);
	ExecDropSingleTupleTableSlot(n);
}

/*
 * writer_begin
 *		Start a batch of rows for log, from rows of trigrel (rootoid or one
 *		of its descendants), in the current command of the top transaction.
 */
static void
writer_begin(LogWriter *w, Relation log, Relation trigrel, Oid rootoid)
{
	/* slots[] is filled as it is used (nslots): not cleared */
	w->log = log;
	w->map = get_capture_map(trigrel, log, rootoid);
	w->nslots = 0;
	w->nused = 0;
	w->bistate = NULL;
	w->cid = GetCurrentCommandId(true);
	w->xid = FullTransactionIdGetDatum(GetTopFullTransactionId());
}

/* writer_end: write what is left of the batch, and free it. */
static void
writer_end(LogWriter *w)
{
	int			i;

	writer_flush(w);
	for (i = 0; i < w->nslots; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	if (w->bistate != NULL)
		FreeBulkInsertState(w->bistate);
}

/* store_empty: is a transition table absent or empty? */
static bool
store_empty(Tuplestorestate *store)
{
	return store == NULL || tuplestore_tuple_count(store) == 0;
}

/*
 * rows_now
 *		The rows a plain table holds now, as far as its pages tell: its pages
 *		now at the density its statistics saw (reltuples over relpages), or,
 *		when they saw no row in its pages or none at all, at the density of
 *		rows as wide as its columns (get_rel_data_width).  Statistics with
 *		pages and no rows are those of a VACUUM or ANALYZE that ran while
 *		the load that filled them was in progress, or of a table emptied by
 *		DELETE: taken at their word (as the planner takes them), every page
 *		would hold no row, and a statement of 10,000 rows into a table of
 *		millions would look like its whole content.
 */
static double
rows_now(Relation rel)
{
	BlockNumber pages = RelationGetNumberOfBlocks(rel);
	double		density;

	if (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples > 0)
		density = rel->rd_rel->reltuples / rel->rd_rel->relpages;
	else
		density = (double) (BLCKSZ - SizeOfPageHeaderData) /
			(get_rel_data_width(rel, NULL) + MAXALIGN(SizeofHeapTupleHeader) + sizeof(ItemIdData));
	return density * pages;
}

/*
 * capture_reltuples
 *		The rows pg_class says relid holds: its reltuples, -1 if never
 *		counted (new, or not analysed yet) or relid is gone.
 */
double
capture_reltuples(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	double		rows = -1;

	if (HeapTupleIsValid(tup))
	{
		rows = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	return rows;
}

/*
 * tree_rows_now
 *		The rows rootoid and its partitions or inheritance children hold
 *		now (rows_now of each plain table among them): what a DT reading
 *		rootoid reads, whichever of them a statement changed.  Only a
 *		statement of DT_BULK_MIN_ROWS rows or more asks.  An estimate: each
 *		member is read under AccessShareLock taken only if free at once
 *		and released after (a writer of one partition must not wait for,
 *		or deadlock with, DDL on another), else counted by its statistics.
 */
static double
tree_rows_now(Oid rootoid)
{
	double		rows = 0;
	ListCell   *lc;

	foreach(lc, find_all_inheritors(rootoid, NoLock, NULL))
	{
		Oid			member = lfirst_oid(lc);
		Relation	rel;

		if (!ConditionalLockRelationOid(member, AccessShareLock))
		{
			rows += Max(capture_reltuples(member), 0);
			continue;
		}
		rel = try_table_open(member, NoLock);
		if (rel != NULL)
		{
			if (rel->rd_rel->relkind == RELKIND_RELATION)
				rows += rows_now(rel);
			table_close(rel, NoLock);
		}
		UnlockRelationOid(member, AccessShareLock);
	}
	return rows;
}

/*
 * bulk_statement
 *		Did the INSERT or DELETE of td change so many rows of the tables its
 *		log captures that every DT reading them is better refreshed in full
 *		(DT_BULK_MIN_ROWS, and 1 / DT_BULK_SHARE of the rows they hold now,
 *		tree_rows_now: the log's root with its partitions or children,
 *		whichever of them the statement changed)?  Not an UPDATE, which may
 *		change no captured column (and then logs nothing).
 */
static bool
bulk_statement(TriggerData *td, Oid rootoid)
{
	double		rows;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && td->tg_newtable != NULL)
		rows = tuplestore_tuple_count(td->tg_newtable);
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event) && td->tg_oldtable != NULL)
		rows = tuplestore_tuple_count(td->tg_oldtable);
	else
		return false;
	return rows >= DT_BULK_MIN_ROWS && rows * DT_BULK_SHARE >= tree_rows_now(rootoid);
}

/*
 * capture_write_changes
 *		The work of a capture trigger (dt_internal.capture_changes, fired
 *		AFTER INSERT/UPDATE/DELETE/TRUNCATE FOR EACH STATEMENT with the
 *		transition tables of its event, arguments (log relid, root relid),
 *		as ddl_guard.c checks): write the statement's rows into the log.
 *		With bulk_markers, a bulk load (bulk_statement) writes a rebuild
 *		marker instead, in the place of its rows: every DT whose refresh
 *		would have read them refreshes in full, which a window that large
 *		chooses anyway (refresh.c, adaptive_full), and the rows cost the
 *		statement nothing to log and the refresh nothing to count.
 *		Returns whether it wrote any, and sets *marker to whether that was
 *		a rebuild marker.  A statement that changed no row (an UPDATE or
 *		DELETE whose WHERE matched nothing) costs no more than the trigger
 *		call: the log is not even opened.
 */
bool
capture_write_changes(TriggerData *td, bool bulk_markers, bool *marker)
{
	Relation	log;
	LogWriter	w;
	Oid			logoid;
	Oid			rootoid;
	TupleDesc	desc;
	bool		wrote;

	*marker = false;
	if (!TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) &&
		store_empty(td->tg_newtable) && store_empty(td->tg_oldtable))
		return false;
	logoid = atooid(td->tg_trigger->tgargs[0]);
	rootoid = atooid(td->tg_trigger->tgargs[1]);
	log = try_relation_open(logoid, RowExclusiveLock);
	if (log == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("change log with OID %u of \"%s\" does not exist",
						logoid, RelationGetRelationName(td->tg_relation))));
	desc = RelationGetDescr(td->tg_relation);
	writer_begin(&w, log, td->tg_relation, rootoid);

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) || (bulk_markers && bulk_statement(td, rootoid)))
	{
		writer_add(&w, NULL, DT_SIGN_REBUILD);
		*marker = true;
	}
	else if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && td->tg_newtable)
		write_store(&w, td->tg_newtable, desc, DT_SIGN_INSERT);
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event) && td->tg_oldtable)
		write_store(&w, td->tg_oldtable, desc, DT_SIGN_DELETE);
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) && td->tg_oldtable && td->tg_newtable)
		write_update(&w, td->tg_oldtable, td->tg_newtable, desc);

	wrote = w.nslots > 0;		/* a slot is made for a row only */
	writer_end(&w);
	table_close(log, NoLock);
	return wrote;
}

/* ---------------------------------------------------------------------
 * Managing change logs and triggers
 * ---------------------------------------------------------------------
 */

/* capture_log_relid: the change log of a relation, or InvalidOid. */
Oid
capture_log_relid(Oid relid)
{
	return names_internal_relid(DT_OBJECT_CHANGES, relid, 0);
}

/* capture_relation_is_captured: has relid a change log? */
bool
capture_relation_is_captured(Oid relid)
{
	return OidIsValid(capture_log_relid(relid));
}

/* The capture triggers: one event each, for the transition tables. */
static const struct
{
	const char *suffix;
	int16		event;
	bool		old_table;
	bool		new_table;
}			capture_events[] = {
	{"ins", TRIGGER_TYPE_INSERT, false, true},
	{"upd", TRIGGER_TYPE_UPDATE, true, true},
	{"del", TRIGGER_TYPE_DELETE, true, false},
	{"trunc", TRIGGER_TYPE_TRUNCATE, false, false},
};

/* transition_table: REFERENCING OLD/NEW TABLE AS name. */
static TriggerTransition *
transition_table(const char *name, bool is_new)
{
	TriggerTransition *tt = makeNode(TriggerTransition);

	tt->name = pstrdup(name);
	tt->isNew = is_new;
	tt->isTable = true;
	return tt;
}

/* capture_function: the OID of dt_internal.capture_changes(). */
static Oid
capture_function(void)
{
	return LookupFuncName(list_make2(makeString(DT_INTERNAL_SCHEMA), makeString("capture_changes")),
						  0, NULL, false);
}

/*
 * is_capture_trigger
 *		Is t a capture trigger writing to log logoid (any log if invalid)?
 */
static bool
is_capture_trigger(Trigger *t, Oid func, Oid logoid)
{
	return t->tgfoid == func && t->tgnargs == 2 &&
		(!OidIsValid(logoid) || atooid(t->tgargs[0]) == logoid);
}

/*
 * install_triggers
 *		The four capture triggers of relid writing to log logoid, unless it
 *		has them already.
 *
 * They are internal triggers (as those of a foreign key): pg_dump does
 * not dump them (a restored DT installs its own, dump.c), psql's \d does
 * not list them, and only a superuser can disable them.  They fire
 * ALWAYS, whatever session_replication_role says.  The caller holds a
 * lock on relid that keeps writers out.
 */
static void
install_triggers(Oid relid, Oid logoid, Oid rootoid)
{
	Oid			func = capture_function();
	Relation	rel;
	bool		present = false;
	int			i;

	if (get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE)
		return;
	rel = table_open(relid, ShareRowExclusiveLock);
	for (i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
		present |= is_capture_trigger(&rel->trigdesc->triggers[i], func, logoid);
	table_close(rel, NoLock);
	if (present)
		return;

	for (i = 0; i < lengthof(capture_events); i++)
	{
		CreateTrigStmt *stmt = makeNode(CreateTrigStmt);

		stmt->trigname = names_capture_trigger(logoid, capture_events[i].suffix);
		stmt->relation = makeRangeVar(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid), -1);
		stmt->funcname = list_make2(makeString(DT_INTERNAL_SCHEMA), makeString("capture_changes"));
		stmt->args = list_make2(makeString(psprintf("%u", logoid)), makeString(psprintf("%u", rootoid)));
		stmt->row = false;
		stmt->timing = TRIGGER_TYPE_AFTER;
		stmt->events = capture_events[i].event;
		if (capture_events[i].old_table)
			stmt->transitionRels = lappend(stmt->transitionRels, transition_table("dt_old", false));
		if (capture_events[i].new_table)
			stmt->transitionRels = lappend(stmt->transitionRels, transition_table("dt_new", true));
		CreateTriggerFiringOn(stmt, NULL, relid, InvalidOid, InvalidOid, InvalidOid, func,
							  InvalidOid, NULL, true, false, TRIGGER_FIRES_ALWAYS);
	}
	CommandCounterIncrement();
}

/*
 * remove_triggers
 *		Drop the capture triggers of relid writing to log logoid (any log if
 *		invalid).
 */
static void
remove_triggers(Oid relid, Oid logoid)
{
	Oid			func = capture_function();
	Relation	rel = table_open(relid, ShareRowExclusiveLock);
	ObjectAddresses *triggers = new_object_addresses();
	int			i;

	for (i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *t = &rel->trigdesc->triggers[i];
		ObjectAddress addr;

		if (!is_capture_trigger(t, func, logoid))
			continue;
		ObjectAddressSet(addr, TriggerRelationId, t->tgoid);
		add_exact_object_address(&addr, triggers);
	}
	table_close(rel, NoLock);
	performMultipleDeletions(triggers, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	CommandCounterIncrement();
}

/*
 * log_column_type
 *		The type of the log column for base column attnum: the column's type
 *		with domains resolved to their base type, so that filling or
 *		altering the log never evaluates a domain's constraints (which are
 *		user code, and the log belongs to the extension owner).
 */
static void
log_column_type(Oid relid, AttrNumber attnum, Oid *type, int32 *typmod, Oid *collation)
{
	get_atttypetypmodcoll(relid, attnum, type, typmod, collation);
	*type = getBaseTypeAndTypmod(*type, typmod);
}

/* log_columns: the base columns a log records now. */
static Bitmapset *
log_columns(Oid logoid)
{
	Relation	log = table_open(logoid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(log);
	Bitmapset  *cols = NULL;
	int			i;

	for (i = 3; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	a;

		if (!att->attisdropped && sscanf(NameStr(att->attname), "a%hd", &a) == 1)
			cols = bms_add_member(cols, a);
	}
	table_close(log, AccessShareLock);
	return cols;
}

/* log_width: the columns of a log, dropped ones included. */
static int
log_width(Oid logoid)
{
	Relation	log = table_open(logoid, AccessShareLock);
	int			width = RelationGetNumberOfAttributes(log);

	table_close(log, AccessShareLock);
	return width;
}

/*
 * log_room
 *		How many columns the log of relid (logoid) can still drop: a dropped
 *		column keeps its place among the 1600 a table can have, and a
 *		column dropped, then needed again, is added anew.  A log drops only
 *		what leaves room to add back every column of relid it does not
 *		record, so that a DT created and dropped again and again over a
 *		table that another DT keeps captured never fills its log; past
 *		that, writers capture the columns no DT needs.
 */
static int
log_room(Oid relid, Oid logoid)
{
	Bitmapset  *recorded = log_columns(logoid);
	Relation	input = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(input);
	int			unrecorded = 0;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		if (!TupleDescAttr(desc, i)->attisdropped && !bms_is_member(i + 1, recorded))
			unrecorded++;
	}
	relation_close(input, AccessShareLock);
	return MaxHeapAttributeNumber - log_width(logoid) - unrecorded;
}

/*
 * capture_may_change
 *		May the current user change the capture of relid: install or remove
 *		its triggers, add or drop captured columns?  That is what CREATE
 *		TRIGGER allows, and it takes the same lock: the TRIGGER privilege,
 *		or ownership.  (Partitions and children follow their root, as a
 *		trigger cloned to partitions does.)
 */
bool
capture_may_change(Oid relid)
{
	return pg_class_ownercheck(relid, GetUserId()) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_TRIGGER) == ACLCHECK_OK;
}

/* column_names: the names of the columns of relid in attnums, quoted, as a list. */
static char *
column_names(Oid relid, Bitmapset *attnums)
{
	StringInfoData s;
	int			a = -1;

	initStringInfo(&s);
	while ((a = bms_next_member(attnums, a)) >= 0)
		appendStringInfo(&s, "%s\"%s\"", s.len > 0 ? ", " : "", get_attname(relid, a, false));
	return s.data;
}

/* missing_columns: the user columns of input not in have. */
static Bitmapset *
missing_columns(DtInput *input, Bitmapset *have)
{
	Bitmapset  *missing = NULL;
	int			attnum = -1;

	while ((attnum = bms_next_member(input->attnums, attnum)) >= 0)
	{
		AttrNumber	a = attnum + FirstLowInvalidHeapAttributeNumber;

		if (a > 0 && !bms_is_member(a, have))
			missing = bms_add_member(missing, a);
	}
	return missing;
}

/*
 * attach_as_reader
 *		A DT of a role that may not change the capture of input reads it:
 *		its changes must already be captured with every column the DT
 *		needs.  Only the log is locked (ShareUpdateExclusiveLock, which no
 *		writer takes, against a concurrent release of these columns); the
 *		input is not, beyond what reading it takes.
 */
static void
attach_as_reader(DtInput *input)
{
	char	   *relname = get_rel_name(input->relid);
	Oid			logoid = capture_log_relid(input->relid);
	Bitmapset  *missing;

	if (OidIsValid(logoid))
	{
		LockRelationOid(logoid, ShareUpdateExclusiveLock);
		/* a release may have dropped it while we waited */
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(logoid)))
			logoid = InvalidOid;
	}
	if (!OidIsValid(logoid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to capture the changes of table \"%s\"", relname),
				 errdetail("No dynamic table reads it yet, and the first one installs triggers on it."),
				 errhint("Ask its owner for the TRIGGER privilege on it, or to create a dynamic table over it first.")));
	missing = missing_columns(input, log_columns(logoid));
	if (missing != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to capture column%s %s of table \"%s\"",
						bms_num_members(missing) > 1 ? "s" : "", column_names(input->relid, missing), relname),
				 errdetail("The dynamic tables over it read other columns; capturing more changes its triggers' work and blocks its writers while it is done."),
				 errhint("Ask its owner for the TRIGGER privilege on it, or to create a dynamic table that reads these columns first.")));
}

/*
 * capture_attach_input
 *		Make sure the changes of input are captured with the columns a DT
 *		needs.
 *
 * Privileges: changing a table's capture (its first log and triggers, or
 * new captured columns) takes capture_may_change, checked before any lock
 * on the table; a role that may only read it gets a DT over it if what it
 * needs is captured already (attach_as_reader), and never blocks its
 * writers nor its owner's VACUUM.
 *
 * Locks otherwise, in this order: ShareUpdateExclusiveLock on the input,
 * which serializes attaching and releasing capture of one table without
 * blocking its writers; ShareUpdateExclusiveLock on its log, which keeps
 * capture_cleanup from deleting rows the new reader needs before its
 * position is committed, and a release from dropping what a reader
 * attached concurrently needs; and, only when the triggers or log columns
 * must change, ShareRowExclusiveLock on the input and its children, which
 * waits for the transactions writing to it and keeps new writers out until
 * the caller commits.  Every change is then either visible to a snapshot
 * taken after this call or captured with the columns needed.
 */
void
capture_attach_input(DtInput *input)
{
	Oid			logoid;
	char	   *log;
	int			a = -1;
	Bitmapset  *missing;

	if (!input->capturable)
		return;
	if (!capture_may_change(input->relid))
	{
		attach_as_reader(input);
		return;
	}
	LockRelationOid(input->relid, ShareUpdateExclusiveLock);
	log = names_internal_qualified(DT_OBJECT_CHANGES, input->relid, 0);
	logoid = capture_log_relid(input->relid);
	if (!OidIsValid(logoid))
	{
		Oid			types[2] = {OIDOID, OIDOID};
		Datum		values[2];
		ListCell   *lc;

		LockRelationOid(input->relid, ShareRowExclusiveLock);
		catalog_exec_ddl(psprintf("CREATE TABLE %s (" DT_COL_XID " xid8 NOT NULL, " DT_COL_CID " integer NOT NULL, "
								  DT_COL_SIGN " smallint NOT NULL) WITH (autovacuum_vacuum_scale_factor = 0.01)",
								  log));
		CommandCounterIncrement();
		logoid = capture_log_relid(input->relid);
		LockRelationOid(logoid, ShareUpdateExclusiveLock);
		/* dropped when no DT reads the relation, or after it is dropped */
		catalog_add_member(RelationRelationId, logoid);

		foreach(lc, find_all_inheritors(input->relid, ShareRowExclusiveLock, NULL))
			install_triggers(lfirst_oid(lc), logoid, input->relid);

		values[0] = ObjectIdGetDatum(input->relid);
		values[1] = ObjectIdGetDatum(logoid);
		SPI_connect();
		catalog_exec("INSERT INTO " DT_INTERNAL_SCHEMA ".change_log (input_relid, log_relid) VALUES ($1, $2)",
					 2, types, values, NULL, SPI_OK_INSERT);
		SPI_finish();
	}
	else
		LockRelationOid(logoid, ShareUpdateExclusiveLock);

	/* Columns the DT needs and the log does not record yet. */
	missing = missing_columns(input, log_columns(logoid));
	if (missing != NULL)
		LockRelationOid(input->relid, ShareRowExclusiveLock);
	if (log_width(logoid) + bms_num_members(missing) > MaxHeapAttributeNumber)
		ereport(ERROR,
				(errcode(ERRCODE_TOO_MANY_COLUMNS),
				 errmsg("the change log of \"%s\" cannot record %d more of its columns",
						get_rel_name(input->relid), bms_num_members(missing)),
				 errdetail("A change log records the columns dynamic tables read, and has at most %d columns, dropped ones included.",
						   MaxHeapAttributeNumber),
				 errhint("Read fewer of its columns, or drop the dynamic tables that read it and create them again.")));
	while ((a = bms_next_member(missing, a)) >= 0)
	{
		Oid			type;
		int32		typmod;
		Oid			collation;

		log_column_type(input->relid, a, &type, &typmod, &collation);
		catalog_exec_ddl(psprintf("ALTER TABLE %s ADD COLUMN a%d %s%s", log, a,
								  format_type_extended(type, typmod, FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY),
								  OidIsValid(collation) ? psprintf(" COLLATE %s", generate_collation_name(collation)) : ""));
	}
	CommandCounterIncrement();
}

/*
 * capture_drop_logs
 *		Drop change logs (relids) whose triggers are gone: their relation was
 *		dropped, or capture_release_unused_inputs removed them.
 */
void
capture_drop_logs(List *logoids)
{
	List	   *objects = NIL;
	ListCell   *lc;

	foreach(lc, logoids)
	{
		ObjectAddress *log = palloc(sizeof(ObjectAddress));

		if (get_rel_name(lfirst_oid(lc)) == NULL)
			continue;
		ObjectAddressSet(*log, RelationRelationId, lfirst_oid(lc));
		objects = lappend(objects, log);
	}
	catalog_drop_members(objects);
}

/*
 * capture_reinstall_triggers
 *		Give relid (and its partitions or children) back the capture
 *		triggers of its change log, if it has one: pg_upgrade carries the
 *		log over but not the internal triggers (dump.c).
 */
void
capture_reinstall_triggers(Oid relid)
{
	Oid			logoid = capture_log_relid(relid);
	ListCell   *lc;

	if (!OidIsValid(logoid))
		return;
	foreach(lc, find_all_inheritors(relid, ShareRowExclusiveLock, NULL))
		install_triggers(lfirst_oid(lc), logoid, relid);
}

/*
 * capture_convert_from_1_0
 *		Version 1.0 captured with ordinary triggers, and its change logs
 *		depended on their relations: make the log of relid an extension
 *		member and its triggers internal ones (see catalog.c and dump.c).
 */
void
capture_convert_from_1_0(Oid relid)
{
	Oid			logoid = capture_log_relid(relid);
	ListCell   *lc;

	if (!OidIsValid(logoid))
		return;
	deleteDependencyRecordsForClass(RelationRelationId, logoid, RelationRelationId, DEPENDENCY_AUTO);
	catalog_add_member(RelationRelationId, logoid);
	foreach(lc, find_all_inheritors(relid, ShareRowExclusiveLock, NULL))
	{
		remove_triggers(lfirst_oid(lc), logoid);
		install_triggers(lfirst_oid(lc), logoid, relid);
	}
}

/* capture_is_capture_function: does funcname name dt_internal.capture_changes()? */
bool
capture_is_capture_function(List *funcname)
{
	Oid			func = LookupFuncName(funcname, 0, NULL, true);

	return OidIsValid(func) && func == capture_function();
}

/* add_columns: log_needed_columns's row function, (columns int2[]). */
static void
add_columns(HeapTuple tuple, TupleDesc desc, void *arg)
{
	Bitmapset **needed = (Bitmapset **) arg;
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, 1, &isnull);
	Datum	   *cols;
	int			ncols;
	int			k;

	if (isnull)
		return;
	deconstruct_array(DatumGetArrayTypeP(d), INT2OID, 2, true, TYPALIGN_SHORT, &cols, NULL, &ncols);
	for (k = 0; k < ncols; k++)
		*needed = bms_add_member(*needed, DatumGetInt16(cols[k]));
}

/*
 * log_needed_columns
 *		The base columns the DTs reading relid need (by the catalog as a
 *		new snapshot sees it), and whether any DT reads it at all.
 */
static Bitmapset *
log_needed_columns(Oid relid, bool *read)
{
	MemoryContext caller = CurrentMemoryContext;
	Bitmapset  *needed = NULL;

	SPI_connect();
	catalog_exec_relid("SELECT columns FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input WHERE input_relid = $1",
					   relid, SPI_OK_SELECT);
	*read = (SPI_processed > 0);
	spi_util_foreach_row(caller, add_columns, &needed);
	SPI_finish();
	return needed;
}

/* lock_or_skip: take a lock, or with nowait try to; false if not taken. */
static bool
lock_or_skip(Oid relid, LOCKMODE mode, bool nowait)
{
	if (!nowait)
	{
		LockRelationOid(relid, mode);
		return true;
	}
	return ConditionalLockRelationOid(relid, mode);
}

/*
 * capture_release_unused_inputs
 *		Fit every change log to its readers: drop the log (and with it its
 *		triggers) of a relation no DT reads any more, and the columns no DT
 *		needs any more from the others.
 *
 * Dropping a log or its columns takes AccessExclusiveLock on the log, and
 * dropping triggers on the table and its children, until the transaction
 * ends: so this is a change of capture (capture_may_change).  In a user's
 * transaction (after a DROP) it fits only the logs of tables whose capture
 * the user may change, waiting for the locks as capture_attach_input
 * does: ShareUpdateExclusiveLock on the input, then on its log, and only
 * then reads which DTs need it, so that a DT being created concurrently
 * keeps what it needs.  (With a transaction snapshot that read could miss
 * such a DT, so nothing is released in REPEATABLE READ or SERIALIZABLE.)  What it leaves is
 * released by the scheduler, with nowait: in a transaction of its own
 * that commits at once, taking each lock only if nobody holds it, so a
 * writer waits at most for that commit, as for capture_compact_logs.  A
 * log it cannot drop yet (its table is always being written) is emptied
 * of what nobody reads, so that it does not grow meanwhile.
 */
void
capture_release_unused_inputs(bool nowait)
{
	List	   *relids;
	ListCell   *lc;
	MemoryContext caller = CurrentMemoryContext;

	if (IsolationUsesXactSnapshot())
		return;
	/* candidates, without locks: logs with no reader, or a column none needs */
	SPI_connect();
	catalog_exec("SELECT l.input_relid FROM " DT_INTERNAL_SCHEMA ".change_log l"
				 " WHERE NOT EXISTS (SELECT FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i"
				 "                   WHERE i.input_relid = l.input_relid)"
				 "    OR EXISTS (SELECT FROM pg_catalog.pg_attribute a"
				 "               WHERE a.attrelid = pg_catalog.to_regclass('" DT_INTERNAL_SCHEMA "." DT_CHANGES_NAME "_' || l.input_relid)"
				 "                 AND a.attnum > 3 AND NOT a.attisdropped"
				 "                 AND NOT EXISTS (SELECT FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i"
				 "                                 WHERE i.input_relid = l.input_relid"
				 "                                   AND pg_catalog.substr(a.attname, 2)::int2 = ANY (i.columns)))",
				 0, NULL, NULL, NULL, SPI_OK_SELECT);
	relids = spi_util_oids(caller);
	SPI_finish();

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		Oid			logoid = capture_log_relid(relid);
		bool		read;
		Bitmapset  *unneeded;
		int			room;
		int			a = -1;

		if (!OidIsValid(logoid) || get_rel_name(relid) == NULL ||
			(!nowait && !capture_may_change(relid)))
			continue;
		if (!lock_or_skip(relid, ShareUpdateExclusiveLock, nowait) ||
			!lock_or_skip(logoid, ShareUpdateExclusiveLock, nowait) ||
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(logoid)))
			continue;
		unneeded = bms_difference(log_columns(logoid), log_needed_columns(relid, &read));

		if (!read)
		{
			Oid			types[1] = {OIDOID};
			Datum		values[1] = {ObjectIdGetDatum(relid)};
			ListCell   *lc2;
			bool		locked = lock_or_skip(logoid, AccessExclusiveLock, nowait);

			/* the log's triggers are on the input and its children */
			foreach(lc2, find_all_inheritors(relid, NoLock, NULL))
				locked = locked && lock_or_skip(lfirst_oid(lc2), AccessExclusiveLock, nowait);
			if (!locked)
			{
				/* writers go on filling it: what they committed goes */
				capture_cleanup(relid);
				continue;
			}
			foreach(lc2, find_all_inheritors(relid, NoLock, NULL))
				remove_triggers(lfirst_oid(lc2), logoid);
			capture_drop_logs(list_make1_oid(logoid));
			SPI_connect();
			catalog_exec("DELETE FROM " DT_INTERNAL_SCHEMA ".change_log WHERE input_relid = $1",
						 1, types, values, NULL, SPI_OK_DELETE);
			SPI_finish();
			continue;
		}
		room = log_room(relid, logoid);
		if (bms_is_empty(unneeded) || room <= 0 || !lock_or_skip(logoid, AccessExclusiveLock, nowait))
			continue;
		while ((a = bms_next_member(unneeded, a)) >= 0 && room-- > 0)
			catalog_exec_ddl(psprintf("ALTER TABLE %s DROP COLUMN a%d",
									  names_internal_qualified(DT_OBJECT_CHANGES, relid, 0), a));
	}
}

/*
 * capture_release_column
 *		Before the type of column attnum of relid changes (by its owner, who
 *		may change its capture), which no DT reads: may the change log no
 *		longer record it?  A column the log still records, whose release
 *		was left to the scheduler or kept for room (log_room), is dropped
 *		from it now if the log has room; false if it stays recorded.  (Not
 *		for a role that does not own relid, whose ALTER TABLE fails.)
 */
bool
capture_release_column(Oid relid, AttrNumber attnum)
{
	Oid			logoid = capture_log_relid(relid);

	if (!OidIsValid(logoid) || !bms_is_member(attnum, log_columns(logoid)))
		return true;
	/* ALTER TABLE refuses anyone else, before locking anything */
	if (!pg_class_ownercheck(relid, GetUserId()))
		return true;
	if (log_room(relid, logoid) <= 0)
		return false;
	/* the table's lock first, as writers take them (then the log's) */
	LockRelationOid(relid, AccessExclusiveLock);
	LockRelationOid(logoid, AccessExclusiveLock);
	catalog_exec_ddl(psprintf("ALTER TABLE %s DROP COLUMN a%d",
							  names_internal_qualified(DT_OBJECT_CHANGES, relid, 0), attnum));
	CommandCounterIncrement();
	return true;
}

/*
 * read_changes_columns
 *		The positions in the log of the base columns a read_changes caller
 *		asks for, checked: a one-dimensional array without NULLs of distinct
 *		numbers of live user columns of relid that the log records, and a
 *		column definition list of dt$sign smallint then each of these
 *		columns with the type the log stores it in.
 */
static int *
read_changes_columns(Oid relid, Relation log, ArrayType *columns, TupleDesc expected,
					 AttrNumber **attnos, int *ncols)
{
	TupleDesc	logdesc = RelationGetDescr(log);
	char	   *relname = get_rel_name(relid);
	Datum	   *attnums;
	int		   *map;
	Bitmapset  *seen = NULL;
	int			i;

	if (ARR_NDIM(columns) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("columns must be a one-dimensional array")));
	if (array_contains_nulls(columns))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("columns must not contain nulls")));
	deconstruct_array(columns, INT2OID, 2, true, TYPALIGN_SHORT, &attnums, NULL, ncols);
	if (expected->natts != *ncols + 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg_plural("column definition list of dt_internal.read_changes must have %d column, not %d",
							   "column definition list of dt_internal.read_changes must have %d columns, not %d",
							   *ncols + 1, *ncols + 1, expected->natts),
				 errdetail("The columns are dt$sign smallint, then each column asked for.")));
	if (TupleDescAttr(expected, 0)->atttypid != INT2OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column 1 of the column definition list of dt_internal.read_changes must be of type smallint")));

	map = palloc(sizeof(int) * Max(*ncols, 1));
	*attnos = palloc(sizeof(AttrNumber) * Max(*ncols, 1));
	for (i = 0; i < *ncols; i++)
	{
		AttrNumber	a = DatumGetInt16(attnums[i]);
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(a));
		bool		live = HeapTupleIsValid(tup) && !((Form_pg_attribute) GETSTRUCT(tup))->attisdropped;
		char	   *name;
		Form_pg_attribute logatt;
		Oid			want;

		if (HeapTupleIsValid(tup))
			ReleaseSysCache(tup);
		if (a <= 0 || !live)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column number %d of relation \"%s\" does not exist", a, relname),
					 a < 0 ? errdetail("System columns are never captured.") : 0));
		name = get_attname(relid, a, false);
		if (bms_is_member(a, seen))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" is asked for more than once", name)));
		seen = bms_add_member(seen, a);
		(*attnos)[i] = a;
		map[i] = get_attnum(RelationGetRelid(log), psprintf("a%d", a)) - 1;
		if (map[i] < 3)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of \"%s\" is not captured", name, relname)));
		logatt = TupleDescAttr(logdesc, map[i]);
		want = TupleDescAttr(expected, i + 1)->atttypid;
		if (want != logatt->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the column definition list of dt_internal.read_changes must be of type %s, not %s",
							i + 2, format_type_be(logatt->atttypid), format_type_be(want)),
					 errdetail("The change log of \"%s\" records column \"%s\" as %s.",
							   relname, name, format_type_be(logatt->atttypid))));
	}
	return map;
}

/*
 * open_window_log
 *		The change log of relid, opened with AccessShareLock, for a read of
 *		the window after the position (since, since_xid): checked to be
 *		relid's log, and the position not in the future.
 */
static Relation
open_window_log(Oid relid, Datum since, FullTransactionId since_xid)
{
	char	   *relname = get_rel_name(relid);
	FullTransactionId next = ReadNextFullTransactionId();
	Oid			logoid = capture_log_relid(relid);
	Relation	log;

	if (!OidIsValid(logoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("changes of \"%s\" are not captured", relname)));
	if (FullTransactionIdFollowsOrEquals(since_xid, next) ||
		FullTransactionIdFollows(DatumGetFullTransactionId(DirectFunctionCall1(pg_snapshot_xmax, since)),
								 next))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("position of a refresh cannot be in the future"),
				 errdetail("Transaction %llu has not started yet.",
						   (unsigned long long) U64FromFullTransactionId(next))));
	log = table_open(logoid, AccessShareLock);
	if (!is_change_log(log, relid))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("\"%s\" is not the change log of \"%s\"", RelationGetRelationName(log), relname)));
	return log;
}

/*
 * check_may_read_changes
 *		Error out unless the current user may read the columns attnos[ncols]
 *		of relid (with none, some column), and row-level security is not in
 *		force on relid for it: a log does not know which rows the policies
 *		let the caller see.
 */
static void
check_may_read_changes(Oid relid, AttrNumber *attnos, int ncols)
{
	char	   *relname = get_rel_name(relid);
	int			i;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		if (ncols == 0 && pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, relname);
		for (i = 0; i < ncols; i++)
		{
			if (pg_attribute_aclcheck(relid, attnos[i], GetUserId(), ACL_SELECT) != ACLCHECK_OK)
				aclcheck_error_col(ACLCHECK_NO_PRIV, OBJECT_TABLE, relname,
								   get_attname(relid, attnos[i], false));
		}
	}
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot read the changes of \"%s\", which has row-level security in force",
						relname),
				 errdetail("A change log does not know which rows the policies let the caller see.")));
}

/*
 * Where a window starts (a position: snapshot, transaction and command),
 * and the answer for the last transaction tested against it: the rows of
 * a log come in runs of one transaction (a statement's rows, a bulk
 * load's), and the snapshot is detoasted once, not per row.
 */
typedef struct WindowStart
{
	Datum		since;
	FullTransactionId since_xid;
	int32		since_cid;
	bool		tested;			/* last_xid and last_consumed are set */
	FullTransactionId last_xid;
	bool		last_consumed;
} WindowStart;

/* window_start: the start of a window at the position (since, ...). */
static void
window_start(WindowStart *w, Datum since, FullTransactionId since_xid, int32 since_cid)
{
	w->since = PointerGetDatum(PG_DETOAST_DATUM(since));
	w->since_xid = since_xid;
	w->since_cid = since_cid;
	w->tested = false;
}

/*
 * consumed_at
 *		Was the change row in slot consumed at the window's start w?  See
 *		this file's header.
 */
static bool
consumed_at(TupleTableSlot *slot, WindowStart *w)
{
	bool		isnull;
	FullTransactionId xid = DatumGetFullTransactionId(slot_getattr(slot, 1, &isnull));

	if (FullTransactionIdEquals(xid, w->since_xid))
		return DatumGetInt32(slot_getattr(slot, 2, &isnull)) < w->since_cid;
	if (!w->tested || !FullTransactionIdEquals(xid, w->last_xid))
	{
		w->last_consumed = DatumGetBool(DirectFunctionCall2(pg_visible_in_snapshot,
															FullTransactionIdGetDatum(xid), w->since));
		w->last_xid = xid;
		w->tested = true;
	}
	return w->last_consumed;
}

/*
 * The statements of this backend that write tables and are running: their
 * rows are captured when they end (the capture trigger fires after the
 * statement, as its executor finishes), so a refresh or a build of a
 * state run from within one (from a BEFORE ROW trigger, or a function it
 * calls) would read rows of it that its logs get after the refresh's
 * position, and a later refresh would merge them again (a full refresh,
 * a rebuild of the state, a build: sums counted twice).  AFTER ROW
 * triggers are seen by their pending events (AfterTriggerPendingOnRel);
 * these are not.  read_guard.c's executor hooks record each statement
 * from its start to its finish, with the tables it writes (ddl_guard.c
 * records a COPY FROM); an error drops the statements of the
 * (sub)transaction it aborts.  In TopTransactionContext.
 */
typedef struct RunningWrite
{
	const void *statement;		/* its QueryDesc (a COPY's PlannedStmt) */
	int			nest_level;		/* of the transaction it runs in */
	List	   *relids;			/* the tables it writes */
} RunningWrite;

static List *running_writes = NIL;

/* running_writes_xact: a transaction ends, and its statements with it. */
static void
running_writes_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		running_writes = NIL;
}

/* running_writes_subxact: a subtransaction aborts, and its statements. */
static void
running_writes_subxact(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	foreach(lc, running_writes)
	{
		RunningWrite *w = (RunningWrite *) lfirst(lc);

		/* freed: a transaction may catch millions of errors */
		if (w->nest_level >= level)
		{
			running_writes = foreach_delete_current(running_writes, lc);
			list_free(w->relids);
			pfree(w);
		}
	}
}

/*
 * capture_statement_starts
 *		statement (a QueryDesc) starts, writing the tables relids; see
 *		RunningWrite.
 */
void
capture_statement_starts(const void *statement, List *relids)
{
	static bool registered = false;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	RunningWrite *w = palloc(sizeof(RunningWrite));

	if (!registered)
	{
		RegisterXactCallback(running_writes_xact, NULL);
		RegisterSubXactCallback(running_writes_subxact, NULL);
		registered = true;
	}
	w->statement = statement;
	w->nest_level = GetCurrentTransactionNestLevel();
	w->relids = list_copy(relids);
	running_writes = lappend(running_writes, w);
	MemoryContextSwitchTo(old);
}

/*
 * capture_statement_finished
 *		statement has finished, its rows captured.  Its record is freed: a
 *		transaction may run millions of statements.
 */
void
capture_statement_finished(const void *statement)
{
	ListCell   *lc;

	foreach(lc, running_writes)
	{
		RunningWrite *w = (RunningWrite *) lfirst(lc);

		if (w->statement == statement)
		{
			running_writes = foreach_delete_current(running_writes, lc);
			list_free(w->relids);
			pfree(w);
			return;
		}
	}
}

/*
 * capture_writes_uncaptured
 *		Has relid rows written by a statement of this backend that are not
 *		captured yet: a statement writing it still running (RunningWrite),
 *		or its capture trigger's event pending?
 */
bool
capture_writes_uncaptured(Oid relid)
{
	ListCell   *lc;

	if (AfterTriggerPendingOnRel(relid))
		return true;
	foreach(lc, running_writes)
	{
		if (list_member_oid(((RunningWrite *) lfirst(lc))->relids, relid))
			return true;
	}
	return false;
}

/*
 * The transactions whose rows read_changes returned from each log since
 * the refresh of a DT began (capture_forget_windows): the window that
 * refresh consumed, so that its cleanup tests those transactions against
 * the readers' positions instead of scanning the log
 * (capture_cleanup_consumed).  A window of more transactions than
 * WINDOW_XIDS_MAX is not recorded (nxids -1).  In TopMemoryContext.
 */
#define WINDOW_XIDS_MAX 64

typedef struct WindowXids
{
	Oid			logoid;
	int			nxids;
	FullTransactionId xids[WINDOW_XIDS_MAX];
} WindowXids;

static List *window_xids = NIL;

/* capture_forget_windows: a refresh of a DT begins; see WindowXids. */
void
capture_forget_windows(void)
{
	list_free_deep(window_xids);
	window_xids = NIL;
}

/* window_find: the record of log logoid, or NULL. */
static WindowXids *
window_find(Oid logoid)
{
	ListCell   *lc;

	foreach(lc, window_xids)
	{
		if (((WindowXids *) lfirst(lc))->logoid == logoid)
			return (WindowXids *) lfirst(lc);
	}
	return NULL;
}

/* window_record: the record of log logoid, new if none. */
static WindowXids *
window_record(Oid logoid)
{
	WindowXids *w = window_find(logoid);
	MemoryContext old;

	if (w != NULL)
		return w;
	old = MemoryContextSwitchTo(TopMemoryContext);
	w = palloc0(sizeof(WindowXids));
	w->logoid = logoid;
	window_xids = lappend(window_xids, w);
	MemoryContextSwitchTo(old);
	return w;
}

/* window_add: transaction xid has a row in the window of w. */
static void
window_add(WindowXids *w, FullTransactionId xid)
{
	int			i;

	if (w->nxids < 0 || (w->nxids > 0 && FullTransactionIdEquals(w->xids[w->nxids - 1], xid)))
		return;
	for (i = 0; i < w->nxids; i++)
	{
		if (FullTransactionIdEquals(w->xids[i], xid))
			return;
	}
	if (w->nxids == WINDOW_XIDS_MAX)
		w->nxids = -1;
	else
		w->xids[w->nxids++] = xid;
}

/*
 * capture_read_changes
 *		The rows of the change log of relid not consumed at the position
 *		(since, since_xid, since_cid) and visible to the active snapshot, as
 *		(sign, the given columns), markers included, into the materialized
 *		result of fcinfo, dt_internal.read_changes (api.c says who may call
 *		it).  See this file's header for positions.
 *
 * The caller must be allowed to read those columns of the input, checked
 * at every call, so revoking SELECT on the input stops incremental
 * refreshes as it stops full ones; and the input must not have row-level
 * security in force for the caller, since a log does not know which rows
 * the caller may see.  A caller could pass anything, so every argument is
 * checked before the log is read (read_changes_columns): the column
 * definition list, which the executor trusts, must describe exactly what
 * is returned.
 */
void
capture_read_changes(FunctionCallInfo fcinfo, Oid relid, Datum since,
					 FullTransactionId since_xid, int32 since_cid, ArrayType *columns)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			ncols;
	int		   *map;
	AttrNumber *attnos;
	Relation	log;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Datum	   *values;
	bool	   *nulls;
	int			i;
	WindowStart start;
	WindowXids *record;

	log = open_window_log(relid, since, since_xid);
	record = window_record(RelationGetRelid(log));
	window_start(&start, since, since_xid, since_cid);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	map = read_changes_columns(relid, log, columns, rsinfo->setDesc, &attnos, &ncols);
	check_may_read_changes(relid, attnos, ncols);

	values = palloc(sizeof(Datum) * (ncols + 1));
	nulls = palloc(sizeof(bool) * (ncols + 1));
	slot = table_slot_create(log, NULL);
	scan = table_beginscan(log, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		if (consumed_at(slot, &start))
			continue;
		window_add(record, DatumGetFullTransactionId(slot_getattr(slot, 1, &nulls[0])));
		values[0] = slot_getattr(slot, 3, &nulls[0]);
		for (i = 0; i < ncols; i++)
			values[i + 1] = slot_getattr(slot, map[i] + 1, &nulls[i + 1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(log, AccessShareLock);
}

/*
 * capture_count_window
 *		The rows (*rows) and rebuild markers (*markers) of the change log of
 *		relid not consumed at the position (since, since_xid, since_cid) and
 *		visible to the active snapshot: what read_changes would return, counted
 *		without a statement (a refresh of a few changed rows paid more for
 *		the statement than for the count), under the same checks.
 */
void
capture_count_window(Oid relid, Datum since, FullTransactionId since_xid, int32 since_cid,
					 int64 *rows, int64 *markers)
{
	Relation	log = open_window_log(relid, since, since_xid);
	TableScanDesc scan;
	TupleTableSlot *slot;
	WindowStart start;

	window_start(&start, since, since_xid, since_cid);
	check_may_read_changes(relid, NULL, 0);
	*rows = *markers = 0;
	slot = table_slot_create(log, NULL);
	scan = table_beginscan(log, GetActiveSnapshot(), 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;

		if (consumed_at(slot, &start))
			continue;
		if (DatumGetInt16(slot_getattr(slot, 3, &isnull)) == DT_SIGN_REBUILD)
			(*markers)++;
		else
			(*rows)++;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(log, AccessShareLock);
}

/* parents_of: the direct parents of a partition or inheritance child. */
static List *
parents_of(Oid relid)
{
	Relation	rel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *parents = NIL;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		parents = lappend_oid(parents, ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return parents;
}

/* captured_ancestors: the captured relations child descends from. */
static List *
captured_ancestors(Oid child)
{
	List	   *result = NIL;
	List	   *todo = list_make1_oid(child);

	while (todo != NIL)
	{
		Oid			rel = linitial_oid(todo);
		ListCell   *lc;

		todo = list_delete_first(todo);
		foreach(lc, parents_of(rel))
		{
			Oid			parent = lfirst_oid(lc);

			if (capture_relation_is_captured(parent))
				result = list_append_unique_oid(result, parent);
			todo = lappend_oid(todo, parent);
		}
	}
	return result;
}

/*
 * capture_follow_new_child
 *		child (with its own children) now belongs to parent: capture its
 *		changes into the log of every captured ancestor.  When it brought
 *		rows with it (ATTACH PARTITION, INHERIT), the readers rebuild.
 */
void
capture_follow_new_child(Oid child, bool brought_rows)
{
	ListCell   *lc;

	foreach(lc, captured_ancestors(child))
	{
		Oid			root = lfirst_oid(lc);
		Oid			logoid = capture_log_relid(root);
		ListCell   *lc2;

		foreach(lc2, find_all_inheritors(child, ShareRowExclusiveLock, NULL))
			install_triggers(lfirst_oid(lc2), logoid, root);
		if (brought_rows)
			capture_mark_rebuild(root);
	}
}

/*
 * capture_forget_child
 *		child (with its own children) leaves parent (DETACH, NO INHERIT) or
 *		is about to be dropped: its rows leave the ancestors without DML, so
 *		their readers rebuild; its triggers for their logs go away.
 */
void
capture_forget_child(Oid child, List *ancestors)
{
	ListCell   *lc;

	foreach(lc, ancestors)
	{
		Oid			root = lfirst_oid(lc);
		ListCell   *lc2;

		if (get_rel_name(child) != NULL)
		{
			foreach(lc2, find_all_inheritors(child, ShareRowExclusiveLock, NULL))
				remove_triggers(lfirst_oid(lc2), capture_log_relid(root));
		}
		capture_mark_rebuild(root);
	}
}

/* capture_ancestors_of: what capture_forget_child needs, taken beforehand. */
List *
capture_ancestors_of(Oid child)
{
	return captured_ancestors(child);
}

/*
 * capture_enable_always
 *		Put the capture triggers of relid back to ENABLE ALWAYS (after ENABLE
 *		TRIGGER ALL or USER made them fire only in origin mode).
 */
void
capture_enable_always(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TriggerDesc *triggers = rel->trigdesc;
	List	   *names = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; triggers != NULL && i < triggers->numtriggers; i++)
	{
		Trigger    *t = &triggers->triggers[i];

		if (names_is_extension_trigger(t->tgname) && t->tgenabled != TRIGGER_FIRES_ALWAYS)
			names = lappend(names, pstrdup(t->tgname));
	}
	table_close(rel, AccessShareLock);
	foreach(lc, names)
		catalog_exec_ddl(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER %s",
								  names_qualified(relid), quote_identifier((char *) lfirst(lc))));
}

/*
 * capture_triggers_disabled
 *		Is a capture trigger on relid (or with guard, its dt_guard trigger)
 *		disabled (ALTER TABLE ... DISABLE TRIGGER ALL, as pg_restore
 *		--disable-triggers does, or USER)?
 */
bool
capture_triggers_disabled(Oid relid, bool guard)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TriggerDesc *triggers = rel->trigdesc;
	bool		disabled = false;
	int			i;

	for (i = 0; triggers != NULL && i < triggers->numtriggers; i++)
	{
		const char *name = triggers->triggers[i].tgname;
		bool		is_guard = (strcmp(name, DT_GUARD_TRIGGER) == 0);

		if (names_is_extension_trigger(name) && is_guard == guard &&
			triggers->triggers[i].tgenabled == TRIGGER_DISABLED)
			disabled = true;
	}
	table_close(rel, AccessShareLock);
	return disabled;
}

/*
 * capture_disabled_within
 *		Are capture triggers disabled on relid or one of its partitions or
 *		children: are changes to it going uncaptured?
 */
bool
capture_disabled_within(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		if (get_rel_name(lfirst_oid(lc)) != NULL && capture_triggers_disabled(lfirst_oid(lc), false))
			return true;
	}
	return false;
}

/*
 * capture_mark_captured_rebuild
 *		Changes to relid went uncaptured (its triggers were disabled): write
 *		a rebuild marker into its change log, or those of its captured
 *		ancestors, so that the DTs reading them are refreshed in full.
 */
void
capture_mark_captured_rebuild(Oid relid)
{
	ListCell   *lc;

	capture_mark_rebuild(relid);
	foreach(lc, captured_ancestors(relid))
		capture_mark_rebuild(lfirst_oid(lc));
}

/*
 * capture_mark_rebuild
 *		Write a rebuild marker into the change log of relid, in the current
 *		transaction.
 */
void
capture_mark_rebuild(Oid relid)
{
	Oid			logoid = capture_log_relid(relid);
	Relation	log;
	Relation	rel;
	LogWriter	w;

	if (!OidIsValid(logoid))
		return;
	log = table_open(logoid, RowExclusiveLock);
	rel = table_open(relid, AccessShareLock);
	writer_begin(&w, log, rel, relid);
	writer_add(&w, NULL, DT_SIGN_REBUILD);
	writer_end(&w);
	table_close(rel, AccessShareLock);
	table_close(log, NoLock);
}

/*
 * The positions of the DTs that read the log of input $1 and have one
 * (position_xid, position_cid, position_snapshot), and of the states they
 * built apart (refresh_build_state: their next refresh merges the rows
 * after it), the least advanced first: a row some reader has not consumed
 * is kept after one test.
 */
#define LOG_READERS_SQL_OF(states) \
	"SELECT p.position_xid, p.position_cid, p.position_snapshot " \
	"FROM " DT_INTERNAL_SCHEMA ".dynamic_table_input i " \
	"JOIN " DT_INTERNAL_SCHEMA ".dynamic_table d ON d.relid = i.relid " \
	"CROSS JOIN LATERAL (SELECT d.position_xid, d.position_cid, d.position_snapshot" states ") p " \
	"WHERE i.input_relid = $1 AND d.position_snapshot IS NOT NULL " \
	"ORDER BY pg_catalog.pg_snapshot_xmax(p.position_snapshot), " \
	"pg_catalog.pg_snapshot_xmin(p.position_snapshot)"
#define LOG_READERS_SQL LOG_READERS_SQL_OF(" UNION ALL " \
	"SELECT s.position_xid, s.position_cid, s.position_snapshot " \
	"FROM " DT_INTERNAL_SCHEMA ".state_position s WHERE s.relid = d.relid")
/* before ALTER EXTENSION UPDATE (a DT dropped then): no state_position */
#define LOG_READERS_SQL_1_0 LOG_READERS_SQL_OF("")

/*
 * any_consumed_by_all
 *		Does the log logoid (locked by the caller) hold a row that every
 *		reader of the SPI result (LOG_READERS_SQL, least advanced first)
 *		has consumed, the rows capture_cleanup would delete?  One test per
 *		reader for each run of rows of one transaction (the readers' own
 *		transactions, whose rows are told apart by command, aside): after
 *		each but the last of the DTs over a log refresh in turn, none is, as
 *		the others have not consumed the last window.  With first_only, only
 *		the log's first row is tested: the oldest, where rows a skipped
 *		cleanup left are (capture_cleanup_consumed).
 */
static bool
any_consumed_by_all(Oid logoid, bool first_only)
{
	int			nreaders = (int) SPI_processed;
	WindowStart *readers = palloc(sizeof(WindowStart) * Max(nreaders, 1));
	Relation	log = table_open(logoid, NoLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(log, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(log, NULL);
	bool		found = false;
	int			i;

	for (i = 0; i < nreaders; i++)
	{
		bool		isnull;

		window_start(&readers[i], spi_util_datum(i, 3, &isnull),
					 DatumGetFullTransactionId(spi_util_datum(i, 1, &isnull)),
					 DatumGetInt32(spi_util_datum(i, 2, &isnull)));
	}
	while (!found && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		found = true;
		for (i = 0; i < nreaders && found; i++)
			found = consumed_at(slot, &readers[i]);
		if (first_only)
			break;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	table_close(log, NoLock);
	return found;
}

/*
 * window_consumed_by_all
 *		Has every reader of the SPI result (LOG_READERS_SQL) consumed a
 *		transaction of the window w, so that rows of it would be deleted?
 *		A transaction a reader's position tells apart by command (its own)
 *		counts as consumed: the delete decides.
 */
static bool
window_consumed_by_all(WindowXids *w)
{
	int			nreaders = (int) SPI_processed;
	int			x;
	int			i;

	for (x = 0; x < w->nxids; x++)
	{
		bool		all = true;

		for (i = 0; i < nreaders && all; i++)
		{
			bool		isnull;

			if (FullTransactionIdEquals(w->xids[x], DatumGetFullTransactionId(spi_util_datum(i, 1, &isnull))))
				return true;
			all = DatumGetBool(DirectFunctionCall2(pg_visible_in_snapshot, FullTransactionIdGetDatum(w->xids[x]),
												   spi_util_datum(i, 3, &isnull)));
		}
		if (all)
			return true;
	}
	return false;
}

/*
 * cleanup
 *		capture_cleanup, and with window_known capture_cleanup_consumed.
 *		Deletes the change rows of relid that every DT reading it with a
 *		position has consumed (one without, restored or suspended, is
 *		refreshed in full next and needs none).  A row of a transaction
 *		older than the xmin of every reader's position is visible to all of
 *		them: one comparison, where the last of many readers (TPC-H's 20
 *		DTs over lineitem) would otherwise test the row against every
 *		reader's snapshot.  Another row is tested against the reader least
 *		advanced (the oldest snapshot) first, then against all in that
 *		order: a row some reader has not consumed, as every row of the
 *		last window is until its last reader refreshes, is kept after one
 *		test (tested against the readers in any order, the cleanup after
 *		each of TPC-H's DTs over lineitem cost 7.5 ms of CPU at 1% of the
 *		orders changed, as much as recomputing Q19; now 1.5 ms).  Skipped,
 *		not waited for,
 *		when another transaction holds the log (a cleanup, a DT being
 *		created, VACUUM), and in transactions whose snapshot could predate
 *		a reader's registration; and without a statement when no row is
 *		consumed by all (any_consumed_by_all, or window_consumed_by_all), as after every refresh of
 *		TPC-H's DTs over lineitem but the last of a round.  Returns false if
 *		it was skipped for the lock (a caller may try again later), true
 *		otherwise.
 *
 * The lock makes this the only transaction deleting from the log (writers
 * only insert, readers only read): a plain DELETE, in one pass.  Locking
 * the rows first (FOR UPDATE SKIP LOCKED) would guard against nobody and
 * write a WAL record per row, more than doubling the time of the cleanup
 * after a bulk load.
 */
static bool
cleanup(Oid relid, bool window_known)
{
	Oid			logoid = capture_log_relid(relid);
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char	   *log;
	const char *readers;

	if (!OidIsValid(logoid) || IsolationUsesXactSnapshot())
		return true;
	if (!ConditionalLockRelationOid(logoid, ShareUpdateExclusiveLock))
		return false;
	log = names_internal_qualified(DT_OBJECT_CHANGES, relid, 0);
	readers = catalog_version_current() ? LOG_READERS_SQL : LOG_READERS_SQL_1_0;
	SPI_connect();
	catalog_exec(readers, 1, types, values, NULL, SPI_OK_SELECT);
	if (window_known ? !window_consumed_by_all(window_record(logoid)) && !any_consumed_by_all(logoid, true)
		: !any_consumed_by_all(logoid, false))
	{
		SPI_finish();
		return true;
	}
	catalog_exec(psprintf("WITH r AS MATERIALIZED (%s), "
						  "l AS MATERIALIZED (SELECT * FROM r LIMIT 1) "
						  "DELETE FROM %s c "
						  "WHERE c." DT_COL_XID " OPERATOR(pg_catalog.<) "
						  "(SELECT pg_catalog.min(pg_catalog.pg_snapshot_xmin(r.position_snapshot)) FROM r) "
						  "OR COALESCE(CASE WHEN c." DT_COL_XID " = (SELECT l.position_xid FROM l) "
						  "THEN c." DT_COL_CID " < (SELECT l.position_cid FROM l) "
						  "ELSE pg_catalog.pg_visible_in_snapshot(c." DT_COL_XID ", "
						  "(SELECT l.position_snapshot FROM l)) END, true) "
						  "AND NOT EXISTS (SELECT FROM r "
						  "WHERE NOT (CASE WHEN c." DT_COL_XID " = r.position_xid "
						  "THEN c." DT_COL_CID " < r.position_cid "
						  "ELSE pg_catalog.pg_visible_in_snapshot(c." DT_COL_XID ", r.position_snapshot) END))",
						  readers, log),
				 1, types, values, NULL, SPI_OK_DELETE);
	SPI_finish();
	return true;
}

bool
capture_cleanup(Oid relid)
{
	return cleanup(relid, false);
}

/*
 * capture_cleanup_consumed
 *		capture_cleanup after the refresh of a DT that read relid's window
 *		(and advanced no other reader): a row only becomes consumed by all
 *		when its last reader consumes it, so a row this refresh did not
 *		consume cannot have become one; its window's transactions, which
 *		read_changes recorded, are tested against the readers instead of a
 *		scan of the log (after each but the last of TPC-H's DTs over
 *		lineitem, a scan of its whole log that found nothing).  Where
 *		read_changes recorded no window (a full refresh, a window of more
 *		than WINDOW_XIDS_MAX transactions), as capture_cleanup.  Rows that
 *		a cleanup skipped for the lock left are among the log's oldest: its
 *		first row (the oldest, unless VACUUM made room before it) is tested
 *		too (any_consumed_by_all, first_only), and the delete takes them.
 *		Without that test, two DTs over one table refreshed at once, round
 *		after round, kept every round's rows: the cleanup of the one that
 *		held the log's lock to its commit found its window not consumed by
 *		the other, whose cleanup was skipped for the lock.
 */
bool
capture_cleanup_consumed(Oid relid)
{
	Oid			logoid = capture_log_relid(relid);
	WindowXids *w = OidIsValid(logoid) ? window_find(logoid) : NULL;

	return cleanup(relid, w != NULL && w->nxids >= 0);
}

/* log_is_empty: does the log hold no row visible to a snapshot taken now? */
static bool
log_is_empty(Oid logoid)
{
	Relation	log = table_open(logoid, NoLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(log, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(log, NULL);
	bool		empty;

	empty = !table_scan_getnextslot(scan, ForwardScanDirection, slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	ExecDropSingleTupleTableSlot(slot);
	table_close(log, NoLock);
	return empty;
}

/*
 * capture_compact_logs
 *		Give back the pages of the big change logs of relids whose rows have
 *		all been consumed and deleted.  read_changes scans a whole log, and
 *		a log keeps the pages of the largest batch it ever held (new rows
 *		land in its free space), so without this every later refresh would
 *		pay again for one bulk load.  (VACUUM truncates such a log too, but
 *		only once autovacuum comes by, and not while the newest rows sit in
 *		its last pages.)
 *
 * The caller runs this alone in a transaction of its own that commits at
 * once (the scheduler, after a refresh), as the locks are held until
 * then.  Like VACUUM's truncation of a relation, it takes
 * AccessExclusiveLock on a log and its TOAST table only if nobody holds
 * them (a writer, whose transaction holds the log until it ends, a reader,
 * a cleanup, a DT being created, VACUUM), so a writer waits at most for
 * that commit.  Emptiness is checked under the lock, with a new snapshot.
 * Returns those of relids whose logs keep LOG_COMPACT_PAGES pages or more
 * (capture_vacuum_logs), in the caller's memory context, and adds to
 * *locked those of them whose locks were not free: emptied perhaps, they
 * are worth another try once the holder is gone (a log found not empty
 * is not: the refresh that consumes its rows will ask again).
 */
List *
capture_compact_logs(List *relids, List **locked)
{
	List	   *big = NIL;
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			logoid = capture_log_relid(lfirst_oid(lc));
		Relation	log;
		BlockNumber pages;
		Oid			toastoid;
		bool		truncate = true;

		/*
		 * The size first, under a light lock: asking for AccessExclusiveLock
		 * assigns a transaction id (for hot standby) even when it fails.
		 */
		if (!OidIsValid(logoid) || (log = try_relation_open(logoid, AccessShareLock)) == NULL)
			continue;
		pages = RelationGetNumberOfBlocks(log);
		toastoid = log->rd_rel->reltoastrelid;
		relation_close(log, AccessShareLock);
		if (pages < LOG_COMPACT_PAGES)
			continue;
		if (!ConditionalLockRelationOid(logoid, AccessExclusiveLock))
		{
			big = lappend_oid(big, lfirst_oid(lc));
			*locked = lappend_oid(*locked, lfirst_oid(lc));
			continue;
		}
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(logoid)) || !log_is_empty(logoid))
			truncate = false;
		else if (OidIsValid(toastoid) && !ConditionalLockRelationOid(toastoid, AccessExclusiveLock))
		{
			truncate = false;
			*locked = lappend_oid(*locked, lfirst_oid(lc));
		}
		if (truncate)
			catalog_exec_ddl(psprintf("TRUNCATE %s", names_internal_qualified(DT_OBJECT_CHANGES, lfirst_oid(lc), 0)));
		else
		{
			UnlockRelationOid(logoid, AccessExclusiveLock);
			big = lappend_oid(big, lfirst_oid(lc));
		}
	}
	return big;
}

/*
 * capture_vacuum_logs
 *		VACUUM the change logs of relids (those capture_compact_logs could
 *		not empty), skipping any that another transaction holds.  Under
 *		steady ingest a log is never empty, so never truncated: the rows
 *		capture_cleanup deletes stay dead until a VACUUM, new rows go to new
 *		pages meanwhile, and every refresh scans them all (read_changes) --
 *		autovacuum comes by once a minute at best, by which time a log
 *		written 20,000 rows a second holds a minute of them.  A VACUUM here
 *		records the space of the rows deleted, which the next rows fill:
 *		the log keeps the pages of about a second of changes, what readers
 *		have not consumed yet.  (It does not truncate: that would wait up to
 *		five seconds for the lock writers hold; capture_compact_logs gives
 *		the pages back once the log is empty.)
 *
 * Called outside a transaction (the scheduler, after capture_cleanup's
 * transaction committed): VACUUM runs in transactions of its own.
 */
void
capture_vacuum_logs(List *relids)
{
	MemoryContext portal = PortalContext;
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "change log vacuum",
											  ALLOCSET_DEFAULT_SIZES);
	ListCell   *lc;

	/* vacuum() keeps its memory, across its transactions, under PortalContext */
	PortalContext = cxt;
	PG_TRY();
	{
		foreach(lc, relids)
		{
			VacuumParams params = {0};
			Oid			logoid;
			List	   *rels;
			MemoryContext old;

			StartTransactionCommand();
			logoid = capture_log_relid(lfirst_oid(lc));
			if (OidIsValid(logoid))
			{
				params.options = VACOPT_VACUUM | VACOPT_SKIP_LOCKED | VACOPT_PROCESS_TOAST;
				params.freeze_min_age = params.freeze_table_age = -1;
				params.multixact_freeze_min_age = params.multixact_freeze_table_age = -1;
				params.log_min_duration = -1;
				params.index_cleanup = VACOPTVALUE_UNSPECIFIED;

				/*
				 * no truncation: it would wait up to 5 s for the writers'
				 * lock
				 */
				params.truncate = VACOPTVALUE_DISABLED;

				/*
				 * the relation list in cxt: vacuum() keeps it, and commits
				 * the transaction whose memory this is
				 */
				old = MemoryContextSwitchTo(cxt);
				rels = list_make1(makeVacuumRelation(NULL, logoid, NIL));
				MemoryContextSwitchTo(old);
				vacuum(rels, &params, NULL, true);
			}
			CommitTransactionCommand();
		}
	}
	PG_FINALLY();
	{
		PortalContext = portal;
		MemoryContextDelete(cxt);
	}
	PG_END_TRY();
}
