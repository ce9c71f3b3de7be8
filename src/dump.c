/*-------------------------------------------------------------------------
 *
 * dump.c
 *		Dynamic tables through pg_dump and pg_restore, pg_upgrade, and
 *		renames of what they read.
 *
 * pg_dump knows nothing of dynamic tables, and needs not:
 *
 *	- what the extension makes in dt_internal is a member of the extension
 *	  (catalog.c), so pg_dump leaves it out, and the catalog's rows are not
 *	  dumped either: they hold OIDs, which a restore changes;
 *	- capture triggers are internal triggers, which pg_dump leaves out;
 *	- a DT is an ordinary table, dumped with its rows, its indexes (its key
 *	  index among them), its grants, and its dt_guard trigger, whose
 *	  arguments carry the DT's definition: its query as PostgreSQL prints
 *	  it, every name qualified, its target lag, requested refresh mode,
 *	  initialize choice, scheduling state and pinned settings
 *	  (catalog_write_guard).
 *
 * A restore creates the table, loads its rows, creates its indexes and,
 * with the triggers, dt_guard.  The ProcessUtility hook (ddl_guard.c)
 * sees that CREATE TRIGGER and calls dump_restore_dynamic_table, which
 * parses the definition again (names now resolve to the restored objects)
 * and makes the table a DT (lifecycle_make_dynamic): state objects,
 * capture of its inputs, catalog row; with initialize => 'on_create' a
 * full refresh at once, as pg_dump refreshes materialized views; with
 * 'on_schedule', the scheduler's first refresh, which is full.  pg_dump's
 * sections make this right in every form of dump: triggers come after all
 * data, so a DT's inputs are loaded when it becomes a DT; a DT over a DT
 * that is not one yet captures it as a table, which is what an input DT
 * is anyway.
 *
 * A data-only restore into a database whose schema was restored before
 * finds the DTs made already; their base tables' rows are captured as
 * they load.  The rows of a DT in the dump are not needed: a COPY into a
 * DT is accepted, with a NOTICE, and its rows are left out
 * (dump_discard_copy): the DT follows its inputs.  The guard lets that
 * COPY through, and no statement its triggers run.
 *
 * pg_upgrade (pg_dump --binary-upgrade, then the files): extension
 * members keep their OIDs and files, so the catalog, the change logs and
 * the state come through as they were, but internal triggers are not
 * dumped.  When the binary-upgrade restore creates a DT's dt_guard,
 * dump_upgrade_dynamic_table gives its inputs their capture triggers back,
 * before anything can write to them, and records its pg_depend entries
 * again.  The stored query trees hold OIDs that pg_upgrade does not keep
 * (functions, operators), and their format is a major version's: a tree
 * another cluster wrote is not read, the query is parsed again from its
 * definition (analysis_stored_query), and the tree stored again by the
 * first refresh or rename (analysis_renew_tree).
 *
 * The definition names what the query reads, so renaming those (a table,
 * a column, a schema, a function) changes it: after a rename,
 * dump_refresh_definitions prints the queries of the DTs that depend on
 * what was renamed again and rewrites the definitions that changed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_ts_config.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"

#include "lifecycle.h"

/*
 * The DT a COPY is leaving out the rows of (dump_discard_copy), or invalid,
 * and the trigger depth of that COPY's own triggers: a statement a trigger
 * runs meanwhile (a BEFORE STATEMENT trigger of the owner writing into the
 * DT) is deeper, and is refused.
 */
static Oid	discarding_copy = InvalidOid;
static int	discarding_depth = 0;

/* trigger_depth: pg_trigger_depth(), the depth of the trigger running now. */
static int
trigger_depth(void)
{
	return DatumGetInt32(OidFunctionCall0(F_PG_TRIGGER_DEPTH));
}

/* dump_is_guard_function: does funcname name dt_internal.guard_dynamic_table()? */
bool
dump_is_guard_function(List *funcname)
{
	Oid			guard = LookupFuncName(list_make2(makeString(DT_INTERNAL_SCHEMA),
												  makeString("guard_dynamic_table")),
									   0, NULL, true);

	return OidIsValid(guard) && LookupFuncName(funcname, 0, NULL, true) == guard;
}

/*
 * guard_arguments
 *		The arguments of the dt_guard trigger of relid, as a List of C
 *		strings; NIL when they are not a definition of this format (a
 *		trigger of version 1.0 had none).
 */
static List *
guard_arguments(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *args = NIL;
	int			i;
	int			k;

	for (i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *t = &rel->trigdesc->triggers[i];

		if (strcmp(t->tgname, DT_GUARD_TRIGGER) != 0)
			continue;
		for (k = 0; k < t->tgnargs; k++)
			args = lappend(args, pstrdup(t->tgargs[k]));
	}
	table_close(rel, AccessShareLock);
	if (list_length(args) < DT_GUARD_ARG_SETTINGS ||
		strcmp((char *) list_nth(args, DT_GUARD_ARG_FORMAT), DT_GUARD_FORMAT) != 0)
		return NIL;
	return args;
}

/* argument: argument n of a dt_guard trigger. */
static char *
argument(List *args, DtGuardArg n)
{
	return (char *) list_nth(args, n);
}

/*
 * parse_state
 *		The scheduling state argument: "ACTIVE", "SUSPENDED", or "SUSPENDED BY
 *		<qualified name>" for a DT suspended with an input DT.
 */
static void
parse_state(const char *state, DtEntry *entry)
{
	const char *by = "SUSPENDED BY ";

	entry->suspended = (strcmp(state, "ACTIVE") != 0);
	entry->suspended_by = InvalidOid;
	if (strncmp(state, by, strlen(by)) == 0)
		entry->suspended_by =
			RangeVarGetRelid(makeRangeVarFromNameList(dt_name_list(state + strlen(by))),
							 NoLock, true);
	else if (entry->suspended && strcmp(state, "SUSPENDED") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid scheduling state \"%s\" in the definition of a dynamic table", state)));
}

/*
 * check_columns
 *		The restored table has exactly the columns of the query: those a
 *		refresh writes.
 */
static void
check_columns(Oid relid, Query *query)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			att = 0;
	ListCell   *lc;
	char	   *problem = NULL;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Oid			type = exprType((Node *) tle->expr);
		Form_pg_attribute a;

		if (tle->resjunk)
			continue;
		while (att < desc->natts && TupleDescAttr(desc, att)->attisdropped)
			att++;
		if (att == desc->natts)
		{
			problem = psprintf("The query has a column \"%s\" the table has not.", tle->resname);
			break;
		}
		a = TupleDescAttr(desc, att++);
		if (type == UNKNOWNOID)
			type = TEXTOID;
		if (strcmp(NameStr(a->attname), tle->resname) != 0 || a->atttypid != type ||
			a->atttypmod != exprTypmod((Node *) tle->expr))
		{
			problem = psprintf("Column %d of the table is \"%s\" %s, of the query \"%s\" %s.", att,
							   NameStr(a->attname), format_type_with_typemod(a->atttypid, a->atttypmod),
							   tle->resname, format_type_with_typemod(type, exprTypmod((Node *) tle->expr)));
			break;
		}
	}
	while (problem == NULL && att < desc->natts)
	{
		if (!TupleDescAttr(desc, att)->attisdropped)
			problem = psprintf("The table has a column \"%s\" the query has not.",
							   NameStr(TupleDescAttr(desc, att)->attname));
		att++;
	}
	table_close(rel, AccessShareLock);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("table \"%s\" does not have the columns of its dynamic table definition",
						get_rel_name(relid)),
				 errdetail_internal("%s", problem)));
}

/* has_rows: has table relid a row? */
static bool
has_rows(Oid relid)
{
	bool		found;

	SPI_connect();
	catalog_exec(psprintf("SELECT FROM %s LIMIT 1", names_qualified(relid)), 0, NULL, NULL, NULL,
				 SPI_OK_SELECT);
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/*
 * check_table
 *		Table relid, whose dt_guard trigger was just made, may become a DT:
 *		the current user owns it (or is a superuser), and it is a permanent,
 *		ordinary table, neither a partition nor an inheritance parent or
 *		child, as one dt.create_dynamic_table makes.  Creating a trigger
 *		takes only the TRIGGER privilege: ownership is checked here.
 */
static void
check_table(Oid relid, const char *name)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, name);
	if (get_rel_relkind(relid) != RELKIND_RELATION ||
		get_rel_persistence(relid) != RELPERSISTENCE_PERMANENT ||
		has_superclass(relid) || find_inheritance_children(relid, NoLock) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" cannot be a dynamic table", name),
				 errdetail("A dynamic table is a permanent, ordinary table, neither a partition nor an inheritance parent or child.")));
}

/*
 * check_owner_reads
 *		The owner of table relid may read everything query reads, as the
 *		creator of a DT must (lifecycle_check_privileges).  A superuser's
 *		restore is not checked: pg_dump restores grants after triggers, so
 *		an owner's privileges on other roles' tables come later.
 */
static void
check_owner_reads(Oid relid, Query *query)
{
	Oid			saved_user;
	int			saved_context;

	if (superuser())
		return;
	catalog_begin_as_owner(catalog_relation_owner(relid), false, &saved_user, &saved_context);
	lifecycle_check_privileges(query);
	catalog_end_as_owner(saved_user, saved_context);
}

/*
 * dump_restore_dynamic_table
 *		The dt_guard trigger of relid, a table that is not a DT, was just
 *		created by a restore (or by hand): make the table the DT its
 *		arguments define, under the checks dt.create_dynamic_table makes.
 */
void
dump_restore_dynamic_table(Oid relid)
{
	List	   *args;
	char	   *name = get_rel_name(relid);
	DtEntry		entry = {0};
	const char *initialize;
	Query	   *query;
	DtAnalysis *an;
	int			guc_level;

	check_table(relid, name);
	args = guard_arguments(relid);
	if (args == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("trigger \"dt_guard\" of \"%s\" does not hold the definition of a dynamic table", name),
				 errdetail("Only dt.create_dynamic_table makes dt_guard triggers; pg_dump dumps them, and restoring one makes its table a dynamic table again.")));

	entry.settings = list_copy_tail(args, DT_GUARD_ARG_SETTINGS);
	settings_check(entry.settings);
	guc_level = settings_pin(entry.settings);
	entry.lag_downstream = !catalog_parse_lag(argument(args, DT_GUARD_ARG_LAG), &entry.target_lag);
	entry.requested_mode = catalog_parse_mode(argument(args, DT_GUARD_ARG_MODE));
	initialize = argument(args, DT_GUARD_ARG_INITIALIZE);
	if (strcmp(initialize, "on_create") != 0 && strcmp(initialize, "on_schedule") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid initialize \"%s\" in the definition of dynamic table \"%s\"",
						initialize, name)));
	entry.on_create = (strcmp(initialize, "on_create") == 0);
	parse_state(argument(args, DT_GUARD_ARG_STATE), &entry);
	if (entry.suspended && !OidIsValid(entry.suspended_by) &&
		strlen(argument(args, DT_GUARD_ARG_REASON)) > 0)
		entry.suspend_reason = argument(args, DT_GUARD_ARG_REASON);
	query = analysis_parse_query(argument(args, DT_GUARD_ARG_DEFINITION));
	AtEOXact_GUC(false, guc_level);

	lifecycle_refuse_inputs(query, true);
	check_owner_reads(relid, query);
	check_columns(relid, query);
	entry.query_text = argument(args, DT_GUARD_ARG_DEFINITION);
	an = lifecycle_analyze(relid, &entry, query);

	/*
	 * Its rows are those pg_dump saw (or none, in a schema-only restore):
	 * read as they are until its next refresh, which is full.  Refreshing now
	 * could fail: the privileges its owner needs are restored last.  One
	 * created on schedule that came with rows had been populated.
	 */
	entry.populated = entry.on_create || has_rows(relid);
	entry.has_position = false;
	lifecycle_make_dynamic(relid, &entry, query, an);
}

/*
 * dump_upgrade_dynamic_table
 *		pg_upgrade's restore just created the dt_guard trigger of DT relid:
 *		put back what its schema dump leaves out.  Its catalog row, change
 *		logs and state come with the files, later; but the tables it reads
 *		need their capture triggers back (internal triggers are not
 *		dumped), and the DT its pg_depend entries (made by
 *		lifecycle_make_dynamic, not by SQL a dump repeats), recorded from
 *		its definition parsed now, with this cluster's OIDs.  A dt_guard of
 *		version 1.0 carries no definition; its capture triggers were
 *		ordinary triggers, which pg_upgrade keeps.
 */
void
dump_upgrade_dynamic_table(Oid relid)
{
	List	   *args = guard_arguments(relid);
	List	   *settings;
	Query	   *query;
	DtAnalysis *an;
	int			guc_level;
	ListCell   *lc;

	if (args == NIL)
		return;
	settings = list_copy_tail(args, DT_GUARD_ARG_SETTINGS);
	settings_check(settings);
	guc_level = settings_pin(settings);
	query = analysis_parse_query(argument(args, DT_GUARD_ARG_DEFINITION));
	an = analysis_analyze(query, relid);
	foreach(lc, an->inputs)
	{
		DtInput    *input = (DtInput *) lfirst(lc);

		if (input->capturable)
			capture_reinstall_triggers(input->relid);
	}
	AtEOXact_GUC(false, guc_level);
	if (catalog_parse_mode(argument(args, DT_GUARD_ARG_MODE)) == DT_MODE_FULL)
		an->strategy = DT_STRATEGY_FULL;
	lifecycle_record_dependencies(relid, settings, query, an);
}

/*
 * dump_discard_copy
 *		COPY ... FROM into DT relid: the same COPY with its rows left out
 *		(WHERE false), which the dt_guard trigger lets through; a NOTICE
 *		says so.  The caller resets dump_discarding_copy when it is done.
 */
Node *
dump_discard_copy(CopyStmt *stmt, Oid relid)
{
	CopyStmt   *copy = copyObject(stmt);
	A_Const    *no = makeNode(A_Const);

	ereport(NOTICE,
			(errmsg("rows copied into dynamic table \"%s\" are left out", get_rel_name(relid)),
			 errdetail("A dynamic table holds the result of its query: its refreshes compute its rows from the tables it reads.")));
	no->val.boolval.type = T_Boolean;
	no->val.boolval.boolval = false;
	no->location = -1;
	copy->whereClause = (Node *) no;
	discarding_copy = relid;
	discarding_depth = trigger_depth() + 1;
	return (Node *) copy;
}

/*
 * dump_discarding_copy
 *		Is the trigger running now (dt_guard) fired by the COPY into relid
 *		that leaves out its rows, and not by a statement run meanwhile?
 */
bool
dump_discarding_copy(Oid relid)
{
	return OidIsValid(relid) && discarding_copy == relid && trigger_depth() == discarding_depth;
}

/* dump_copy_done: the COPY of dump_discard_copy ended. */
void
dump_copy_done(void)
{
	discarding_copy = InvalidOid;
}

/* renew_tree: analysis_renew_tree of DT relid (for spi_util_in_subtransaction). */
static void
renew_tree(void *arg)
{
	analysis_renew_tree(catalog_read_entry(*(Oid *) arg, false));
}

/*
 * dump_renew_trees
 *		Before a rename: store again, parsed from their definitions, the
 *		trees another cluster wrote (pg_upgrade; analysis_tree_current),
 *		while the definitions still name what they read.  Each DT in a
 *		subtransaction of its own: one that fails is left as it is, with
 *		a WARNING, and the rename goes on.
 */
void
dump_renew_trees(void)
{
	ListCell   *lc;

	if (!catalog_version_current())
		return;
	foreach(lc, catalog_stale_trees())
	{
		Oid			relid = lfirst_oid(lc);
		ErrorData  *edata;

		if (get_rel_name(relid) == NULL)
			continue;
		edata = spi_util_in_subtransaction(renew_tree, &relid);
		if (edata != NULL)
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("could not parse the definition of dynamic table \"%s\" again: %s",
							get_rel_name(relid), edata->message)));
	}
}

/* A DT whose definition may name what was renamed, for refresh_definition. */
typedef struct RenamedFor
{
	Oid			relid;
	ObjectAddress renamed;
} RenamedFor;

/*
 * refresh_definition
 *		The definition of a DT after a rename of something it may name
 *		(RenamedFor): its pinned text search configuration as it is called
 *		now, its query printed again; the catalog row updated, and dt_guard
 *		rewritten when its arguments (the suspending DT's name included)
 *		are not those of the catalog row.  For spi_util_in_subtransaction.
 */
static void
refresh_definition(void *arg)
{
	RenamedFor *r = (RenamedFor *) arg;
	Oid			relid = r->relid;
	DtEntry    *entry = catalog_read_entry(relid, false);
	Oid			ts_config;
	List	   *old_args;
	List	   *new_args;
	char	   *definition;
	int			guc_level;
	ListCell   *lc;
	ListCell   *lc2;

	if (!analysis_tree_current(entry))
		return;					/* dump_renew_trees said why */
	ts_config = settings_find_ts_config(entry->settings, catalog_referenced(relid, TSConfigRelationId),
										r->renamed.classId, r->renamed.objectId);
	if (OidIsValid(ts_config))
	{
		entry->settings = settings_name_ts_config(entry->settings, ts_config);
		catalog_set_settings(relid, entry->settings);
	}
	guc_level = settings_pin(entry->settings);
	definition = analysis_print_definition((Query *) stringToNode(entry->query_tree));
	AtEOXact_GUC(false, guc_level);
	if (entry->definition == NULL || strcmp(definition, entry->definition) != 0)
		catalog_set_definition(relid, definition);

	old_args = guard_arguments(relid);
	new_args = catalog_guard_arguments(relid);
	if (list_length(old_args) == list_length(new_args))
	{
		forboth(lc, old_args, lc2, new_args)
		{
			if (strcmp((char *) lfirst(lc), (char *) lfirst(lc2)) != 0)
				break;
		}
		if (lc == NULL)
			return;
	}
	catalog_write_guard(relid);
}

/*
 * dump_refresh_definitions
 *		After renamed (an object, its address looked up before the
 *		command) was renamed or moved to another schema: refresh the
 *		definitions of the DTs that may name it (catalog_dts_naming).
 *		Each in a subtransaction of its own: a DT whose definition cannot
 *		be printed keeps it, with a WARNING, and the rename stands.  Before
 *		ALTER EXTENSION UPDATE (an older catalog), nothing is done.
 */
void
dump_refresh_definitions(ObjectAddress renamed)
{
	ListCell   *lc;
	List	   *dts;

	if (!OidIsValid(renamed.objectId) || !catalog_version_current())
		return;
	/* the internal DTs of a DT read what it names (lifecycle_analyze) */
	dts = catalog_dts_naming(renamed.classId, renamed.objectId);
	foreach(lc, dts)
		dts = list_concat(dts, catalog_internal_dts(lfirst_oid(lc)));
	foreach(lc, dts)
	{
		RenamedFor	r = {lfirst_oid(lc), renamed};
		Oid			relid = r.relid;
		ErrorData  *edata;

		if (get_rel_name(relid) == NULL)
			continue;
		edata = spi_util_in_subtransaction(refresh_definition, &r);
		if (edata != NULL)
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("could not update the definition of dynamic table \"%s\": %s",
							get_rel_name(relid), edata->message),
					 errdetail("A dump made now would restore it as it was defined before this command.")));
	}
}

/*
 * dump_convert_from_1_0
 *		ALTER EXTENSION UPDATE from 1.0: bring the DTs and change logs made
 *		by 1.0 to what 1.1 makes.  1.0 stored no definition, owned its state
 *		objects through pg_depend entries on the DT (which pg_dump dumped as
 *		user objects), captured with ordinary triggers (dumped with stale
 *		OIDs) and gave dt_guard no arguments.
 */
void
dump_convert_from_1_0(void)
{
	ListCell   *lc;

	if (PG_MAJORVERSION_NUM != 15)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_dynamic_tables 1.0 can only be updated on PostgreSQL 15"),
				 errdetail("Version 1.0 stored the queries of dynamic tables in PostgreSQL 15's format only."),
				 errhint("Update the extension before upgrading PostgreSQL, or recreate the dynamic tables.")));
	foreach(lc, catalog_dynamic_tables())
	{
		Oid			relid = lfirst_oid(lc);
		DtEntry    *entry;
		ListCell   *lc2;
		int			guc_level;

		if (get_rel_name(relid) == NULL)
			continue;
		entry = catalog_read_entry(relid, false);
		guc_level = settings_pin(entry->settings);
		catalog_set_definition(relid,
							   analysis_print_definition((Query *) stringToNode(entry->query_tree)));
		AtEOXact_GUC(false, guc_level);
		/* written by this cluster, which 1.0 did not record */
		entry->tree_system = (int64) GetSystemIdentifier();
		catalog_set_tree(entry);
		foreach(lc2, catalog_state_objects(relid))
		{
			ObjectAddress *object = (ObjectAddress *) lfirst(lc2);

			deleteDependencyRecordsForClass(object->classId, object->objectId,
											RelationRelationId, DEPENDENCY_AUTO);
			catalog_add_member(object->classId, object->objectId);
		}
		lifecycle_record_dependencies(relid, entry->settings, NULL, NULL);
		CommandCounterIncrement();
		catalog_write_guard(relid);
	}
	foreach(lc, catalog_captured_relations())
	{
		if (get_rel_name(lfirst_oid(lc)) != NULL)
			capture_convert_from_1_0(lfirst_oid(lc));
	}
}
