/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *		A table becomes a dynamic table, and what is made for it goes away
 *		with it.
 *
 * A DT starts as an ordinary table with exactly its query's columns:
 * made by dt.create_dynamic_table (api.c), or by a restore (dump.c), which
 * creates the table from pg_dump's output and then its dt_guard trigger,
 * whose arguments carry the definition.  lifecycle_make_dynamic then adds
 * everything else, in one transaction: the internal objects of its
 * strategy in dt_internal, the index on its key, the guard trigger,
 * capture on every input, pg_depend entries from the DT to what its query
 * uses (as for a view) and to the extension, the catalog row, and with
 * initialize => 'on_create' its first refresh.
 *
 * When a DT or an input is dropped, pg_depend takes away the triggers and
 * the key index; the sql_drop event trigger calls lifecycle_forget_dropped
 * for the rest (catalog rows, state objects, change logs), which are
 * extension members and so are not reached by a cascaded drop (catalog.c).
 * Dropping its dt_guard trigger makes a DT a plain table again
 * (lifecycle_unmake_dynamic).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_ts_config.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "lifecycle.h"

/* capitalized: a reason phrase as the start of a sentence. */
static char *
capitalized(const char *phrase)
{
	char	   *s = pstrdup(phrase);

	s[0] = pg_toupper((unsigned char) s[0]);
	return s;
}

/*
 * recompute_reason
 *		refresh_mode_reason of a DT maintained by affected-key recompute;
 *		a NOTICE when no index finds the base rows of a key, so that every
 *		refresh scans a table.
 */
static char *
recompute_reason(DtAnalysis *an)
{
	const char *col = recompute_key_columns(an);
	const char *shown = list_length(an->recompute->keys) > 1 ? psprintf("(%s)", col) : psprintf("\"%s\"", ((DtKeyColumn *) linitial(an->recompute->keys))->name);

	const char *rows = an->recompute->any ? psprintf("the rows with a value the changes touch in any of (%s)", col)
	: psprintf("the rows of the %s values that the changes touch", shown);

	if (!an->recompute->indexed)
	{
		ereport(NOTICE,
				(errmsg("no index finds the rows of one %s in the tables the dynamic table reads", shown),
				 errdetail("Each incremental refresh will scan them."),
				 errhint("Create an index on the expression the column is computed from.")));
		return psprintf("%s are recomputed; no index finds their base rows", rows);
	}
	return psprintf("%s are recomputed", rows);
}

/*
 * rank_reason
 *		The part of refresh_mode_reason of a delta-merge DT that aggregates
 *		over the first rows of a window's partitions (window.c); a NOTICE
 *		naming the index that would read them, when none does.
 */
static const char *
rank_reason(DtAnalysis *an)
{
	if (!an->rank_subqueries)
		return "";
	if (an->rank_index != NULL)
	{
		ereport(NOTICE,
				(errmsg("no index reads the first rows of one partition of the window in its order"),
				 errdetail("Each incremental refresh will scan the rows of every group the changes touch."),
				 errhint("Create the index: %s", an->rank_index)));
		return "; aggregates over the first rows of a partition are computed again for the groups the "
			"changes touch; no index reads those rows";
	}
	return "; aggregates over the first rows of a partition are computed again for the groups the "
		"changes touch, reading those rows through an index";
}

/*
 * top_k_reason
 *		refresh_mode_reason of a top-k over one relation; a NOTICE naming
 *		the index that would read its first rows in order, when none does,
 *		so that every refresh sorts the relation.
 */
static char *
top_k_reason(DtAnalysis *an)
{
	char	   *index = deparse_top_k_index(an, true);
	const char *reason = "the rows within the LIMIT are chosen again from the relation it reads "
	"when that changed";

	if (index == NULL)
		return pstrdup(reason);
	ereport(NOTICE,
			(errmsg("no index reads the rows of the relation the dynamic table reads in its ORDER BY"),
			 errdetail("Each incremental refresh will sort all of its rows."),
			 errhint("Create the index: %s", index)));
	return psprintf("%s; no index reads its rows in order", reason);
}

/*
 * lifecycle_choose_strategy
 *		Apply the requested refresh mode to an analysis: 'incremental'
 *		refuses a query neither strategy maintains, 'full' forces full
 *		refreshes.  Sets entry->incremental and entry->reason.  A delta
 *		merge whose state would need more columns than a table can have
 *		is no strategy: its refreshes are full.
 */
void
lifecycle_choose_strategy(DtEntry *entry, DtAnalysis *an, const char *name)
{
	int			width;

	if (an->strategy == DT_STRATEGY_MERGE && (width = deparse_state_width(an)) > MaxHeapAttributeNumber)
	{
		an->strategy = DT_STRATEGY_FULL;
		an->reason = psprintf("a per-group state of %d columns (a table has at most %d)",
							  width, MaxHeapAttributeNumber);
	}
	if (entry->requested_mode == DT_MODE_INCREMENTAL && an->strategy == DT_STRATEGY_FULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("query of dynamic table \"%s\" cannot be refreshed incrementally", name),
				 errdetail("%s cannot be maintained incrementally.", capitalized(an->reason)),
				 errhint("Use refresh_mode => 'auto' to fall back to full refreshes.")));
	if (entry->requested_mode == DT_MODE_FULL)
	{
		an->strategy = DT_STRATEGY_FULL;
		entry->reason = pstrdup("refresh_mode FULL was requested");
	}
	else if (an->strategy == DT_STRATEGY_FULL)
		entry->reason = psprintf("%s cannot be maintained incrementally", an->reason);
	else if (an->strategy == DT_STRATEGY_MERGE)
		entry->reason = psprintf("aggregates are merged from the changes; min, max, count distinct "
								 "and percentiles from per-group value counts%s%s",
								 an->query->limitCount != NULL || an->query->limitOffset != NULL ?
								 "; the rows within the LIMIT are chosen again from every group's state" : "",
								 rank_reason(an));
	else if (an->strategy == DT_STRATEGY_TOP_K)
		entry->reason = top_k_reason(an);
	else if (an->strategy == DT_STRATEGY_CONSTANT)
		entry->reason = pstrdup("it reads no table and only immutable functions: its rows never change");
	else
		entry->reason = recompute_reason(an);
	if (an->strategy != DT_STRATEGY_FULL && an->internal > 0)
		entry->reason = psprintf("%s; %s, refreshed before it", entry->reason,
								 an->internal == 1 ? "a subquery is read from an internal dynamic table" :
								 psprintf("%d subqueries are read from internal dynamic tables",
										  an->internal));
	entry->incremental = (an->strategy != DT_STRATEGY_FULL);
}

/*
 * lifecycle_refuse_inputs
 *		Checks of the relations of a query that a DT is made from, by
 *		dt.create_dynamic_table or by a dt_guard trigger created by a
 *		restore or by hand (restored):
 *
 *		A user's query reads no relation of dt_internal (directly or through
 *		a view): the state, auxiliary and internal tables its owner owns are
 *		rewritten and dropped by the extension alone, and capture triggers on
 *		them, the catalog or a change log would capture the extension's own
 *		writes (or, for a change log's, never fire).  A restore is held to it
 *		too: CREATE TRIGGER dt_guard takes only the TRIGGER privilege.
 *
 *		A table with row-level security read through a view of another role
 *		(not security_invoker) is refused in a new query, unless neither
 *		role is subject to its policies (analysis_refuse_view_policies; a DT
 *		over such a view held one row where the view shows three); each
 *		refresh checks it again (refresh.c).
 *
 *		TABLESAMPLE without REPEATABLE samples other rows on every run, like
 *		a volatile function: no table can equal such a query.  Checked for
 *		a new query only: a restore makes again what was made before.
 *		(pg_upgrade's restore checks neither: its DTs exist.)
 */
void
lifecycle_refuse_inputs(Query *query, bool restored)
{
	DtQueryInputs inputs;
	Oid			internal = names_internal_namespace();
	ListCell   *lc;

	querytree_inputs(query, &inputs);
	if (!restored)
		analysis_refuse_view_policies(inputs.rtes);
	foreach(lc, inputs.rtes)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (!restored && rte->tablesample != NULL && rte->tablesample->repeatable == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("dynamic table query cannot use TABLESAMPLE without REPEATABLE"),
					 errdetail("A dynamic table must be reproducible from its query; a sample without a seed reads other rows on every evaluation."),
					 errhint("Add REPEATABLE (seed) to the TABLESAMPLE clause of \"%s\".",
							 get_rel_name(rte->relid))));
		if (get_rel_namespace(rte->relid) == internal)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("dynamic table query cannot read \"%s.%s\"",
							DT_INTERNAL_SCHEMA, get_rel_name(rte->relid)),
					 errdetail("The objects of schema %s are the internals of pg_dynamic_tables.",
							   DT_INTERNAL_SCHEMA),
					 errhint("Read the dynamic table they serve instead.")));
	}
}

/*
 * lifecycle_check_privileges
 *		The creator of a DT, who owns it, must be able to read every input
 *		(its refreshes run as the owner and check again each time).
 */
void
lifecycle_check_privileges(Query *query)
{
	analysis_check_permissions(query);
}

/* record_dependency: depender depends on referenced. */
static void
record_dependency(Oid classid, Oid depender, Oid refclassid, Oid referenced, DependencyType type)
{
	ObjectAddress dep;
	ObjectAddress ref;

	ObjectAddressSet(dep, classid, depender);
	ObjectAddressSet(ref, refclassid, referenced);
	recordDependencyOn(&dep, &ref, type);
}

/* is_internal: is DT relid an internal DT of another (dt_internal.sub_*)? */
static bool
is_internal(Oid relid)
{
	return get_rel_namespace(relid) == names_internal_namespace();
}

/*
 * make_internal_dt
 *		Internal DT n of DT relid (entry: its settings, initialize and
 *		position) for subquery sub: a table in dt_internal, a member of the
 *		extension owned by relid's owner (catalog.c), with a lag of
 *		DOWNSTREAM, so refreshed only in its parent's unit.  InvalidOid,
 *		and nothing made, when no strategy maintains sub either.
 */
static Oid
make_internal_dt(Oid relid, int n, DtEntry *entry, Query *sub)
{
	DtEntry		e = {0};
	Query	   *query;
	DtAnalysis *an;
	Oid			subrelid;
	ListCell   *lc;
	StringInfoData ddl;
	int			guc_level;

	guc_level = settings_pin(entry->settings);
	e.query_text = analysis_print_definition(sub);
	query = analysis_parse_query(e.query_text);
	AtEOXact_GUC(false, guc_level);
	an = analysis_analyze(query, InvalidOid);
	if (an->strategy == DT_STRATEGY_FULL || an->always_full)
		return InvalidOid;

	/* the columns' collations named as the DDL's search_path finds them */
	guc_level = settings_pin(entry->settings);
	initStringInfo(&ddl);
	appendStringInfo(&ddl, "CREATE TABLE %s (", names_internal_qualified(DT_OBJECT_SUB, relid, n));
	foreach(lc, deparse_dt_columns(query))
		appendStringInfo(&ddl, "%s%s", foreach_current_index(lc) > 0 ? ", " : "", (char *) lfirst(lc));
	appendStringInfoChar(&ddl, ')');
	catalog_exec_ddl(ddl.data);
	AtEOXact_GUC(false, guc_level);
	CommandCounterIncrement();
	subrelid = names_internal_relid(DT_OBJECT_SUB, relid, n);
	catalog_add_member(RelationRelationId, subrelid);
	catalog_follow_owner(relid);

	e.settings = entry->settings;
	e.lag_downstream = true;
	e.requested_mode = DT_MODE_AUTO;
	e.on_create = entry->on_create;
	e.has_position = true;
	an = analysis_analyze(query, subrelid);
	lifecycle_choose_strategy(&e, an, get_rel_name(subrelid));
	lifecycle_make_dynamic(subrelid, &e, query, an);
	return subrelid;
}

/*
 * forget_dropped_dts
 *		Forget the DTs that no longer exist and drop their state objects
 *		(their internal DTs among them: then theirs, until none is left),
 *		and the change logs of relations that no longer exist.  Returns the
 *		DTs forgotten.
 */
static List *
forget_dropped_dts(void)
{
	List	   *forgotten = NIL;
	List	   *dts;
	List	   *logs;
	ListCell   *lc;

	do
	{
		catalog_delete_dropped(&dts, &logs);
		foreach(lc, dts)
			catalog_drop_members(catalog_state_objects(lfirst_oid(lc)));
		capture_drop_logs(logs);
		forgotten = list_concat(forgotten, dts);
	} while (dts != NIL);
	return forgotten;
}

/*
 * drop_state
 *		Drop the state objects of DT relid, its internal DTs among them,
 *		and forget those.
 */
static void
drop_state(Oid relid)
{
	catalog_drop_members(catalog_state_objects(relid));
	(void) forget_dropped_dts();
}

/*
 * Below this many rows in all, as their statistics count them, the tables
 * of a threshold are cheaper to read twice per refresh than a one-row
 * internal DT of it is to refresh: a threshold over 10 rows cost its
 * reader's refresh 0.3 to 0.7 ms of CPU more as a table, over 2,000 about
 * as much either way, over TPC-H Q22's 15,000 customers 7 ms less.  The
 * choice is made once, at creation, and a table counted small may grow
 * (the scan grows with it, the table's refresh does not), so only a
 * table counted clearly small is read twice.
 */
#define THRESHOLD_TABLE_ROWS 1000

/*
 * threshold_pays
 *		Does a threshold sub read more than THRESHOLD_TABLE_ROWS rows, or
 *		a table never counted (reltuples < 0: new, or not analysed yet,
 *		which may grow)?
 */
static bool
threshold_pays(Query *sub)
{
	double		rows = 0;
	ListCell   *lc;

	foreach(lc, sub->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);
		double		reltuples;

		if (rte->rtekind != RTE_RELATION)
			continue;
		reltuples = capture_reltuples(rte->relid);
		if (reltuples < 0)
			return true;
		rows += reltuples;
	}
	return rows > THRESHOLD_TABLE_ROWS;
}

/*
 * read_thresholds
 *		DT relid, whose query delta merge maintains as written (an), with
 *		internal DTs for its thresholds (internal_find_threshold), in their
 *		order while they pay (threshold_pays), each of them kept by a
 *		strategy, if it has any and the query reading them is maintained
 *		too: its analysis then reads them.  Otherwise an, and none.
 */
static DtAnalysis *
read_thresholds(Oid relid, DtEntry *entry, Query *query, DtAnalysis *an)
{
	Query	   *read = copyObject(query);
	Query	   *sub;
	DtAnalysis *through;
	int			n = 0;

	while ((sub = internal_find_threshold(read)) != NULL && threshold_pays(sub))
	{
		Oid			subrelid = make_internal_dt(relid, ++n, entry, sub);

		if (!OidIsValid(subrelid))
		{
			drop_state(relid);
			return an;
		}
		internal_replace(read, subrelid);
	}
	if (n == 0)
		return an;
	through = analysis_analyze(query, relid);
	if (through->strategy == DT_STRATEGY_MERGE && through->internal == n)
		return through;
	drop_state(relid);
	return an;
}

/*
 * lifecycle_analyze
 *		How DT relid (made, not yet dynamic: no internal DTs), to be defined
 *		by entry and query, is maintained (analysis_analyze), and
 *		lifecycle_choose_strategy.  A query no strategy maintains as it is,
 *		whose subqueries internal.c finds, gets internal DTs for them, in
 *		internal_find's order until the query reading them is maintained,
 *		when each is maintained by a strategy and the query reading them is
 *		too (otherwise none): its analysis then reads them.  A query delta
 *		merge maintains gets them for its thresholds (read_thresholds).
 */
DtAnalysis *
lifecycle_analyze(Oid relid, DtEntry *entry, Query *query)
{
	DtAnalysis *an = analysis_analyze(query, relid);

	if (an->strategy == DT_STRATEGY_FULL && !an->always_full &&
		entry->requested_mode != DT_MODE_FULL && !is_internal(relid))
	{
		Query	   *read = copyObject(query);
		Query	   *sub;
		int			n = 0;
		bool		made = true;

		while (made && (sub = internal_find(read)) != NULL)
		{
			Oid			subrelid = make_internal_dt(relid, ++n, entry, sub);

			made = OidIsValid(subrelid);
			if (made)
				internal_replace(read, subrelid);
			/* as few as it takes (a grouped top-k needs no table of its own) */
			if (made && analysis_analyze(read, InvalidOid)->strategy != DT_STRATEGY_FULL)
				break;
		}
		if (n > 0)
		{
			DtAnalysis *through = analysis_analyze(query, relid);
			char	   *index;

			if (made && through->strategy != DT_STRATEGY_FULL)
				an = through;
			else
				drop_state(relid);
			/* a top-k over its query without LIMIT reads the first rows */
			if (an == through && an->strategy == DT_STRATEGY_TOP_K &&
				(index = deparse_top_k_index(an, false)) != NULL)
				catalog_exec_ddl(index);
		}
	}
	else if (an->strategy == DT_STRATEGY_MERGE && entry->requested_mode != DT_MODE_FULL &&
			 !is_internal(relid))
		an = read_thresholds(relid, entry, query, an);
	lifecycle_choose_strategy(entry, an, get_rel_name(relid));
	return an;
}

/*
 * create_state_objects
 *		The state of a delta-merge DT in dt_internal: members of the
 *		extension, owned by the DT's owner (catalog.c says why).
 */
static void
create_state_objects(Oid relid, DtAnalysis *an)
{
	ListCell   *lc;

	foreach(lc, deparse_internal_objects(relid, an))
		catalog_exec_ddl((char *) lfirst(lc));
	CommandCounterIncrement();
	foreach(lc, catalog_state_objects(relid))
	{
		ObjectAddress *object = (ObjectAddress *) lfirst(lc);

		/* its internal DTs' are members already */
		if (!OidIsValid(getExtensionOfObject(object->classId, object->objectId)))
			catalog_add_member(object->classId, object->objectId);
	}
	catalog_follow_owner(relid);
}

/* index_access_method: the access method of an index. */
static Oid
index_access_method(Oid index)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(index));
	Oid			am;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", index);
	am = ((Form_pg_class) GETSTRUCT(tup))->relam;
	ReleaseSysCache(tup);
	return am;
}

/* relation_indexes: the OIDs of the indexes of a table. */
static List *
relation_indexes(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);

	table_close(rel, AccessShareLock);
	return indexes;
}

/*
 * dt_attnum
 *		The attribute number of the DT's column for output column resno of
 *		its query: the same number, unless the query was replaced and
 *		columns dropped (replace_columns).
 */
static AttrNumber
dt_attnum(Oid relid, DtAnalysis *an, AttrNumber resno)
{
	return get_attnum(relid, get_tle_by_resno(an->query->targetList, resno)->resname);
}

/*
 * find_key_index
 *		An index of the DT that is the key index deparse_key_index describes:
 *		for delta merge unique, NULLS NOT DISTINCT, on exactly the key
 *		columns (with grouping sets, not unique); for recompute on the key column.  A restored DT has it
 *		already (pg_dump dumped it with the table).
 */
static Oid
find_key_index(Oid relid, DtAnalysis *an)
{
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, relation_indexes(relid))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;
		bool		match;
		int			k;

		if (!HeapTupleIsValid(tup))
			continue;
		index = (Form_pg_index) GETSTRUCT(tup);
		match = index->indisvalid && heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL);
		if (an->strategy == DT_STRATEGY_RECOMPUTE)
		{
			match = match && index->indnkeyatts == list_length(an->recompute->keys);
			for (k = 0; match && k < index->indnkeyatts; k++)
				match = index->indkey.values[k] ==
					dt_attnum(relid, an, ((DtKeyColumn *) list_nth(an->recompute->keys, k))->resno);
		}
		else
		{
			/* grouping sets: two groups' rows can be equal in the key */
			match = match && (an->grouping_sets != NIL ||
							  (index->indisunique && index->indnullsnotdistinct)) &&
				index->indnkeyatts == list_length(an->keys);
			for (k = 0; match && k < index->indnkeyatts; k++)
				match = index->indkey.values[k] ==
					dt_attnum(relid, an, ((DtKey *) list_nth(an->keys, k))->resno);
		}
		ReleaseSysCache(tup);
		if (match && index_access_method(lfirst_oid(lc)) == BTREE_AM_OID)
		{
			found = lfirst_oid(lc);
			break;
		}
	}
	return found;
}

/*
 * ensure_key_index
 *		The index of an incremental DT on its key, which a refresh finds the
 *		rows it rewrites with (lifecycle_record_dependencies makes it part
 *		of the DT).
 */
static void
ensure_key_index(Oid relid, DtAnalysis *an)
{
	char	   *key_index = deparse_key_index(relid, an);

	if (key_index == NULL || OidIsValid(find_key_index(relid, an)))
		return;
	catalog_exec_ddl(key_index);
	CommandCounterIncrement();
	if (!OidIsValid(find_key_index(relid, an)))
		elog(ERROR, "could not find the key index of dynamic table %u", relid);
}

/*
 * lifecycle_record_dependencies
 *		The pg_depend entries of DT relid, as for a view: on what its query
 *		uses; on the text search configuration its settings pin, which
 *		every refresh sets; on the extension (DROP EXTENSION ... CASCADE
 *		drops the DTs: nothing would refresh them); and its key index's, as
 *		part of it (AUTO, not INTERNAL: a cascade that reaches a column of
 *		the DT first, as DROP TYPE ... CASCADE of a key column's type does,
 *		would make PostgreSQL drop the DT, the internal owner of the index
 *		on that column, before the column; ddl_guard.c refuses DROP INDEX
 *		of it, through lifecycle_key_index_owner).  query NULL: only
 *		the settings' and the extension's (a DT of 1.0 has the others).
 *		an->strategy is the effective one: a DT refreshed in full has no
 *		key index.  An internal DT, an extension member, has only its key
 *		index's: its parent depends on what the subquery reads.
 */
void
lifecycle_record_dependencies(Oid relid, List *settings, Query *query, DtAnalysis *an)
{
	ObjectAddress dtaddr;
	Oid			ts_config = settings_ts_config(settings);

	ObjectAddressSet(dtaddr, RelationRelationId, relid);
	if (is_internal(relid))
	{
		/* a member: what it reads, its parent depends on (catalog.c) */
		query = NULL;
		settings = NIL;
	}
	if (query != NULL)
		recordDependencyOnExpr(&dtaddr, (Node *) query, NIL, DEPENDENCY_NORMAL);
	if (OidIsValid(ts_config))
		record_dependency(RelationRelationId, relid, TSConfigRelationId, ts_config, DEPENDENCY_NORMAL);
	if (!is_internal(relid))
		record_dependency(RelationRelationId, relid, ExtensionRelationId,
						  get_extension_oid(DT_EXTENSION_NAME, false), DEPENDENCY_NORMAL);
	if (an != NULL && an->strategy != DT_STRATEGY_FULL)
	{
		Oid			index = find_key_index(relid, an);

		if (OidIsValid(index))
			record_dependency(RelationRelationId, index, RelationRelationId, relid, DEPENDENCY_AUTO);
	}
}

/*
 * is_key_index_dependency
 *		Is dep (a pg_depend row) the one lifecycle_record_dependencies
 *		records for a DT's key index: from an index without expressions or
 *		predicate (whose own AUTO dependencies on the table name columns,
 *		and only a whole-row reference in an expression names the table
 *		itself) on the whole table; INTERNAL as DTs made by 1.0 have it.
 */
static bool
is_key_index_dependency(Form_pg_depend dep)
{
	HeapTuple	tup;
	bool		plain;

	if (dep->classid != RelationRelationId || dep->refclassid != RelationRelationId ||
		dep->refobjsubid != 0 || dep->objsubid != 0 ||
		(dep->deptype != DEPENDENCY_AUTO && dep->deptype != DEPENDENCY_INTERNAL))
		return false;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(dep->objid));
	if (!HeapTupleIsValid(tup))
		return false;
	plain = heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
		heap_attisnull(tup, Anum_pg_index_indpred, NULL);
	ReleaseSysCache(tup);
	return plain;
}

/*
 * lifecycle_key_index_owner
 *		The DT whose key index index is, or InvalidOid.
 */
Oid
lifecycle_key_index_owner(Oid index)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(index));
	scan = systable_beginscan(rel, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (is_key_index_dependency(dep) && catalog_is_dynamic_table(dep->refobjid))
			owner = dep->refobjid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * lock_inputs
 *		ShareUpdateExclusiveLock, which capture_attach_input takes first, on
 *		the inputs whose capture the current user may change, in OID order,
 *		so that DTs made at once (pg_restore --jobs) over the same tables
 *		wait for each other instead of deadlocking.  Writers are not
 *		blocked; a role that may not change capture takes no such lock.
 */
static void
lock_inputs(List *inputs)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, inputs)
	{
		DtInput    *input = (DtInput *) lfirst(lc);

		if (input->capturable && capture_may_change(input->relid))
			relids = lappend_oid(relids, input->relid);
	}
	list_sort(relids, list_oid_cmp);
	foreach(lc, relids)
		LockRelationOid(lfirst_oid(lc), ShareUpdateExclusiveLock);
}

/*
 * lifecycle_make_dynamic
 *		Make table relid, which has exactly the columns of query, the DT of
 *		entry (query_text, target lag, mode, initialize, settings,
 *		suspension, whether it is populated and has a position), maintained
 *		as analysis an says.  Fills in the rest of entry.
 *
 * A DT that would read itself, through the DTs it reads, is refused
 * (catalog_refuse_cycle).  Capture of what it reads is started or
 * extended as the current user may (capture_attach_input).  A DT without a position (a restored one) is
 * refreshed in full next time; one created with initialize => 'on_create'
 * is refreshed by the caller, who also wakes the scheduler.
 */
void
lifecycle_make_dynamic(Oid relid, DtEntry *entry, Query *query, DtAnalysis *an)
{
	int			guc_level;
	ListCell   *lc;
	List	   *input_relids = NIL;

	foreach(lc, an->inputs)
	{
		Oid			input = ((DtInput *) lfirst(lc))->relid;
		DtEntry    *upstream = catalog_read_entry(input, true);

		input_relids = lappend_oid(input_relids, input);
		/* a DT that reads a suspended one is suspended with it */
		if (!entry->suspended && upstream != NULL && upstream->suspended)
		{
			entry->suspended = true;
			entry->suspended_by = input;
		}
	}
	catalog_refuse_cycle(relid, get_rel_name(relid), input_relids);
	lock_inputs(an->inputs);

	/* Internal SQL is generated for search_path = pg_catalog. */
	guc_level = settings_pin(entry->settings);
	entry->relid = relid;
	analysis_set_tree(entry, query);
	entry->definition = analysis_print_definition(query);
	if (an->strategy == DT_STRATEGY_MERGE)
		create_state_objects(relid, an);
	if (an->strategy != DT_STRATEGY_FULL)
		ensure_key_index(relid, an);
	foreach(lc, an->inputs)
		capture_attach_input((DtInput *) lfirst(lc));
	AtEOXact_GUC(false, guc_level);

	lifecycle_record_dependencies(relid, entry->settings, query, an);

	catalog_insert_entry(entry, an->inputs);
	CommandCounterIncrement();
	catalog_write_guard(relid);
	CommandCounterIncrement();
}

/*
 * forget_dependencies
 *		Delete from pg_depend what lifecycle_make_dynamic recorded for DT
 *		relid: its dependencies on what its query uses and on the extension
 *		(the table's own, on its schema, access method and OF type and those
 *		of its columns, stay), and its key index's dependency on it, which
 *		makes that an ordinary index.  Returns the key index, or
 *		InvalidOid.
 */
static Oid
forget_dependencies(Oid relid)
{
	Relation	rel = table_open(DependRelationId, RowExclusiveLock);
	HeapTuple	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			of_type;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			index = InvalidOid;

	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	of_type = ((Form_pg_class) GETSTRUCT(classtup))->reloftype;
	ReleaseSysCache(classtup);
	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->objsubid == 0 && dep->deptype == DEPENDENCY_NORMAL &&
			dep->refclassid != NamespaceRelationId && dep->refclassid != AccessMethodRelationId &&
			dep->refobjid != of_type)
			CatalogTupleDelete(rel, &tup->t_self);
	}
	systable_endscan(scan);

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (is_key_index_dependency(dep))
		{
			index = dep->objid;
			CatalogTupleDelete(rel, &tup->t_self);
		}
	}
	systable_endscan(scan);
	table_close(rel, RowExclusiveLock);
	CommandCounterIncrement();
	return index;
}

/*
 * replace_columns
 *		Give DT relid the columns of query, in order, keeping those that are
 *		already there in that order (name, type, typmod and collation), so
 *		that what depends on them stays; the others are dropped (with the
 *		indexes on them) and the new ones added.  An object that depends on
 *		a column to drop (a view, a DT that reads it) is an error.
 */
static void
replace_columns(Oid relid, Query *query)
{
	List	   *want = deparse_dt_columns(query);
	List	   *attnums;
	List	   *have = deparse_table_columns(relid, &attnums);
	List	   *drop = NIL;
	int			next = 0;
	ListCell   *lc;
	ListCell   *la;

	forboth(lc, have, la, attnums)
	{
		if (next < list_length(want) && strcmp(lfirst(lc), list_nth(want, next)) == 0)
			next++;
		else
			drop = lappend_int(drop, lfirst_int(la));
	}
	foreach(la, drop)
	{
		char	   *what = catalog_column_dependent(relid, lfirst_int(la));
		char	   *column = get_attname(relid, lfirst_int(la), false);

		if (what != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot replace the query of dynamic table \"%s\"", get_rel_name(relid)),
					 errdetail("Column \"%s\" would be dropped or change its type, and %s depends on it.",
							   column, what),
					 errhint("Keep the column's name and type in the new query, or drop what depends on it first.")));
		catalog_exec_ddl(psprintf("ALTER TABLE %s DROP COLUMN %s", names_qualified(relid),
								  quote_identifier(column)));
	}
	for_each_from(lc, want, next)
		catalog_exec_ddl(psprintf("ALTER TABLE %s ADD COLUMN %s", names_qualified(relid),
								  (char *) lfirst(lc)));
	CommandCounterIncrement();
}

/*
 * lifecycle_redefine
 *		Give DT relid, locked and owned by the current user, a new
 *		definition in place (entry: query text, target lag, mode,
 *		initialize, settings, suspension; populated false, with a
 *		position): it keeps its OID, its refresh history, its grants, the
 *		objects that depend on it and the columns that stay.  Its internal
 *		objects are made anew for query, which is analysed here, after the
 *		columns changed; it is emptied, and the caller refreshes it.
 */
void
lifecycle_redefine(Oid relid, DtEntry *entry, Query *query)
{
	Oid			old_index;
	Oid			new_index;
	DtAnalysis *an;

	/* its rows are the old query's, and may break the new key's index */
	refresh_empty(relid);
	drop_state(relid);
	old_index = forget_dependencies(relid);
	catalog_forget_inputs(relid);
	replace_columns(relid, query);

	an = lifecycle_analyze(relid, entry, query);
	lifecycle_make_dynamic(relid, entry, query, an);

	/* the old key index, unless it is the new one (or went with a column) */
	new_index = an->strategy == DT_STRATEGY_FULL ? InvalidOid : find_key_index(relid, an);
	if (OidIsValid(old_index) && old_index != new_index && get_rel_name(old_index) != NULL)
		catalog_exec_ddl(psprintf("DROP INDEX %s", names_qualified(old_index)));
	capture_release_unused_inputs(false);
}

/*
 * lifecycle_forget_dropped
 *		After a DROP: forget the DTs that no longer exist and drop their
 *		state objects, drop the change logs of relations that no longer
 *		exist, and release the capture of relations no DT reads any more.
 *		Idempotent.  Returns the DTs forgotten: the scheduler's plan changes
 *		(the caller wakes it).
 */
List *
lifecycle_forget_dropped(void)
{
	List	   *forgotten = forget_dropped_dts();

	capture_release_unused_inputs(false);
	return forgotten;
}

/*
 * lifecycle_unmake_dynamic
 *		The dt_guard trigger of DT relid was dropped (pg_restore --clean
 *		drops it first): the table stays, with its rows, as a plain table.
 *		Its catalog rows, state objects and the dependencies of creation
 *		go; the capture of inputs no DT reads any more is released as the
 *		current user may.  DTs that read it read a plain table.
 */
void
lifecycle_unmake_dynamic(Oid relid)
{
	List	   *state = catalog_state_objects(relid);

	catalog_delete_entry(relid);
	catalog_drop_members(state);
	(void) forget_dropped_dts();
	(void) forget_dependencies(relid);
	capture_release_unused_inputs(false);
}

/*
 * lifecycle_release_members_of
 *		Before DROP OWNED BY roles: take the state objects of the DTs those
 *		roles own (which they own too) out of the extension, so that DROP
 *		OWNED drops them with the DTs; it refuses to drop an extension
 *		member.  If the DROP fails, its rollback puts them back.
 */
void
lifecycle_release_members_of(List *roles)
{
	ListCell   *lc;

	foreach(lc, catalog_dynamic_tables())
	{
		Oid			relid = lfirst_oid(lc);

		if (get_rel_name(relid) != NULL && list_member_oid(roles, catalog_relation_owner(relid)))
			catalog_remove_members(catalog_state_objects(relid));
	}
}

/*
 * internal_members
 *		The objects the extension made for DTs and change logs, which are its
 *		members (catalog.c): every DT's state objects (an internal DT's
 *		once, with its parent's) and every change log.
 */
static List *
internal_members(void)
{
	List	   *objects = NIL;
	ListCell   *lc;

	foreach(lc, catalog_dynamic_tables())
	{
		/* an internal DT's are among its parent's, with it */
		if (!is_internal(lfirst_oid(lc)))
			objects = list_concat(objects, catalog_state_objects(lfirst_oid(lc)));
	}
	foreach(lc, catalog_captured_relations())
	{
		Oid			log = capture_log_relid(lfirst_oid(lc));
		ObjectAddress *object;

		if (!OidIsValid(log))
			continue;
		object = palloc(sizeof(ObjectAddress));
		ObjectAddressSet(*object, RelationRelationId, log);
		objects = lappend(objects, object);
	}
	return objects;
}

/* An object reached by reachable's walk (whole: sub-objects count as it). */
typedef struct ReachedObject
{
	Oid			classId;
	Oid			objectId;
} ReachedObject;

/* reach: add an object to reachable's walk, once. */
static void
reach(HTAB *seen, List **queue, Oid classId, Oid objectId)
{
	ReachedObject key = {classId, objectId};
	bool		found;
	ObjectAddress *object;

	(void) hash_search(seen, &key, HASH_ENTER, &found);
	if (found)
		return;
	object = palloc(sizeof(ObjectAddress));
	ObjectAddressSet(*object, classId, objectId);
	*queue = lappend(*queue, object);
}

/*
 * reachable
 *		What a cascaded drop of objects (a List of ObjectAddress) can reach,
 *		as a hash table of ReachedObject: what depends on them in any way,
 *		and what they are internal to or a partition of (PostgreSQL drops
 *		that too), transitively, as findDependentObjects goes; never through
 *		our extension, whose members depend on it.  It may reach more than
 *		the drop will (a column's dependents are those of its table), never
 *		less.
 */
static HTAB *
reachable(List *objects)
{
	Oid			extension = get_extension_oid(DT_EXTENSION_NAME, false);
	HASHCTL		ctl = {0};
	HTAB	   *seen;
	List	   *queue = NIL;
	Relation	depend;
	int			i;
	ListCell   *lc;

	ctl.keysize = sizeof(ReachedObject);
	ctl.entrysize = sizeof(ReachedObject);
	ctl.hcxt = CurrentMemoryContext;
	seen = hash_create("pg_dynamic_tables cascade", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	foreach(lc, objects)
		reach(seen, &queue, ((ObjectAddress *) lfirst(lc))->classId, ((ObjectAddress *) lfirst(lc))->objectId);
	depend = table_open(DependRelationId, AccessShareLock);
	for (i = 0; i < list_length(queue); i++)
	{
		ObjectAddress *object = (ObjectAddress *) list_nth(queue, i);
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		CHECK_FOR_INTERRUPTS();
		if (object->classId == ExtensionRelationId && object->objectId == extension)
			continue;
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(object->classId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(object->objectId));
		scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
			reach(seen, &queue, ((Form_pg_depend) GETSTRUCT(tup))->classid,
				  ((Form_pg_depend) GETSTRUCT(tup))->objid);
		systable_endscan(scan);

		ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(object->classId));
		ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(object->objectId));
		scan = systable_beginscan(depend, DependDependerIndexId, true, NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

			if (d->deptype == DEPENDENCY_INTERNAL || d->deptype == DEPENDENCY_PARTITION_PRI ||
				d->deptype == DEPENDENCY_PARTITION_SEC)
				reach(seen, &queue, d->refclassid, d->refobjid);
		}
		systable_endscan(scan);
	}
	table_close(depend, AccessShareLock);
	return seen;
}

/* is_reached: is object among those reachable found? */
static bool
is_reached(HTAB *reached, ObjectAddress * object)
{
	ReachedObject key = {object->classId, object->objectId};

	return hash_search(reached, &key, HASH_FIND, NULL) != NULL;
}

/*
 * lifecycle_release_members
 *		Before a DROP ... CASCADE of objects (a List of ObjectAddress, or
 *		with everything set, anything: DROP OWNED): take the internal
 *		objects it can reach out of the extension, as PostgreSQL would turn
 *		a cascade reaching one of them (through a type its columns use, say)
 *		into an error, and return them.  Those the cascade drops are a
 *		dropped DT's; lifecycle_adopt_members takes the others back once the
 *		command is done, and a failed command's rollback does.  Only those
 *		are touched: concurrent drops of unrelated objects do not write the
 *		same rows.
 */
List *
lifecycle_release_members(List *objects, bool everything)
{
	HTAB	   *reached = everything ? NULL : reachable(objects);
	List	   *released = NIL;
	ListCell   *lc;

	foreach(lc, internal_members())
	{
		if (everything || is_reached(reached, (ObjectAddress *) lfirst(lc)))
			released = lappend(released, lfirst(lc));
	}
	catalog_remove_members(released);
	return released;
}

/*
 * lifecycle_adopt_members
 *		The internal objects lifecycle_release_members released that still
 *		exist are members again.
 */
void
lifecycle_adopt_members(List *released)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, internal_members())
	{
		ObjectAddress *object = (ObjectAddress *) lfirst(lc);

		foreach(lc2, released)
		{
			ObjectAddress *r = (ObjectAddress *) lfirst(lc2);

			if (r->classId == object->classId && r->objectId == object->objectId &&
				!OidIsValid(getExtensionOfObject(object->classId, object->objectId)))
				catalog_add_member(object->classId, object->objectId);
		}
	}
}
