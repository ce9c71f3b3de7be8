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
 * dump_reinstall_capture gives its inputs their capture triggers back,
 * before anything can write to them.  The stored query trees are specific
 * to a major version: after an upgrade to another, a DT's query is parsed
 * again from its definition (analysis_stored_query).
 *
 * The definition names what the query reads, so renaming those (a table,
 * a column, a schema, a function) changes it: after every rename,
 * dump_refresh_definitions prints the queries again and rewrites the
 * definitions that changed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
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
	query = analysis_parse_query(argument(args, DT_GUARD_ARG_DEFINITION));
	AtEOXact_GUC(false, guc_level);

	check_owner_reads(relid, query);
	check_columns(relid, query);
	an = analysis_analyze(query, relid);
	lifecycle_choose_strategy(&entry, an, name);
	entry.query_text = argument(args, DT_GUARD_ARG_DEFINITION);

	/*
	 * Its rows are those pg_dump saw (or none, in a schema-only restore):
	 * read as they are until its next refresh, which is full.  Refreshing now
	 * could fail: the privileges its owner needs are restored last.
	 */
	entry.populated = entry.on_create;
	entry.has_position = false;
	lifecycle_make_dynamic(relid, &entry, query, an);
}

/*
 * dump_reinstall_capture
 *		pg_upgrade's restore just created the dt_guard trigger of DT relid:
 *		give the tables it reads back their capture triggers (their change
 *		logs are there already).  A dt_guard of version 1.0 carries no
 *		definition; its capture triggers were ordinary triggers, which
 *		pg_upgrade keeps.
 */
void
dump_reinstall_capture(Oid relid)
{
	List	   *args = guard_arguments(relid);
	List	   *settings;
	Query	   *query;
	int			guc_level;
	ListCell   *lc;

	if (args == NIL)
		return;
	settings = list_copy_tail(args, DT_GUARD_ARG_SETTINGS);
	settings_check(settings);
	guc_level = settings_pin(settings);
	query = analysis_parse_query(argument(args, DT_GUARD_ARG_DEFINITION));
	foreach(lc, analysis_analyze(query, relid)->inputs)
	{
		DtInput    *input = (DtInput *) lfirst(lc);

		if (input->capturable)
			capture_reinstall_triggers(input->relid);
	}
	AtEOXact_GUC(false, guc_level);
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

/*
 * dump_refresh_definitions
 *		After a rename: print every DT's query again, and where the
 *		definition changed, store it and rewrite the DT's dt_guard.
 */
void
dump_refresh_definitions(void)
{
	ListCell   *lc;

	foreach(lc, catalog_dynamic_tables())
	{
		Oid			relid = lfirst_oid(lc);
		DtEntry    *entry;
		char	   *definition;
		int			guc_level;

		if (get_rel_name(relid) == NULL)
			continue;
		entry = catalog_read_entry(relid, false);
		if (entry->tree_major != PG_MAJORVERSION_NUM)
			continue;
		guc_level = settings_pin(entry->settings);
		definition = analysis_print_definition((Query *) stringToNode(entry->query_tree));
		AtEOXact_GUC(false, guc_level);
		if (entry->definition != NULL && strcmp(definition, entry->definition) == 0)
			continue;
		catalog_set_definition(relid, definition);
		catalog_write_guard(relid);
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
	Oid			extension = get_extension_oid(DT_EXTENSION_NAME, false);
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
		ObjectAddress dt;
		ObjectAddress ext;

		if (get_rel_name(relid) == NULL)
			continue;
		entry = catalog_read_entry(relid, false);
		guc_level = settings_pin(entry->settings);
		catalog_set_definition(relid,
							   analysis_print_definition((Query *) stringToNode(entry->query_tree)));
		AtEOXact_GUC(false, guc_level);
		foreach(lc2, catalog_state_objects(relid))
		{
			ObjectAddress *object = (ObjectAddress *) lfirst(lc2);

			deleteDependencyRecordsForClass(object->classId, object->objectId,
											RelationRelationId, DEPENDENCY_AUTO);
			catalog_add_member(object->classId, object->objectId);
		}
		ObjectAddressSet(dt, RelationRelationId, relid);
		ObjectAddressSet(ext, ExtensionRelationId, extension);
		recordDependencyOn(&dt, &ext, DEPENDENCY_NORMAL);
		CommandCounterIncrement();
		catalog_write_guard(relid);
	}
	foreach(lc, catalog_captured_relations())
	{
		if (get_rel_name(lfirst_oid(lc)) != NULL)
			capture_convert_from_1_0(lfirst_oid(lc));
	}
}
