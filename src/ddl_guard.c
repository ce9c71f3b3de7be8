/*-------------------------------------------------------------------------
 *
 * ddl_guard.c
 *		Keep DDL and writes from breaking dynamic tables.
 *
 * pg_depend does most of the work: a DT depends on the columns, functions
 * and types its query uses, so DROP of any of them is refused (or cascades
 * to the DT), and its key index goes with it.  What pg_depend cannot
 * express is done here:
 *
 *	- DROP INDEX of a DT's key index is refused (its dependency is AUTO, not
 *	  INTERNAL: see lifecycle_record_dependencies);
 *	- the guard trigger (dt_internal.guard_dynamic_table) refuses every
 *	  INSERT, UPDATE, DELETE, TRUNCATE, COPY and MERGE into a DT that is not
 *	  its own refresh;
 *	- the ProcessUtility hook refuses ALTER TABLE on a DT except storage and
 *	  ownership settings (but SET UNLOGGED), renaming its columns, triggers
 *	  and rules on it, changing the type of a column a DT reads, foreign
 *	  keys referencing a DT, disabling the guard
 *	  and capture triggers and dropping the capture triggers; dropping a
 *	  DT's dt_guard trigger makes it a plain table (lifecycle_unmake_dynamic,
 *	  what pg_restore --clean needs);
 *	- it refuses ordinary roles DDL on the objects of dt_internal, the state
 *	  of their own DTs included, and everyone an index on them
 *	  (check_internal_objects);
 *	- it follows partitions and inheritance children: a new child of a
 *	  captured table is captured too, and rows that arrive or leave without
 *	  DML (ATTACH, DETACH, INHERIT, NO INHERIT, DROP of a child) make the
 *	  readers rebuild;
 *	- the sql_drop event trigger forgets dropped DTs and releases the
 *	  capture of tables no DT reads any more.
 *
 * The extension's own DDL (catalog_exec_ddl) is let through unchecked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_namespace.h"
#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "entry.h"

PG_FUNCTION_INFO_V1(dt_capture_changes);
PG_FUNCTION_INFO_V1(dt_guard_dynamic_table);
PG_FUNCTION_INFO_V1(dt_on_sql_drop);

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* What to do once the command itself has run. */
typedef struct AfterCommand
{
	List	   *new_children;	/* created or attached children */
	bool		brought_rows;	/* attached with rows (ATTACH, INHERIT) */
	List	   *leaving;		/* (child, captured ancestors) pairs */
	List	   *leaving_ancestors;
	List	   *always_again;	/* relations whose triggers ENABLE ALL reset */
	List	   *uncaptured;		/* ... whose capture triggers were disabled */
	List	   *unguarded;		/* DTs whose dt_guard was disabled */
	List	   *new_owner;		/* DTs whose owner changed */
	bool		table_existed;	/* CREATE TABLE IF NOT EXISTS found it */
	Oid			guarded;		/* a dt_guard trigger made by a restore */
	ObjectAddress renamed;		/* what a rename or move renames, or invalid */
	bool		dropped_extension;	/* DROP EXTENSION pg_dynamic_tables */
	List	   *released;		/* internal objects released for a cascade */
	List	   *unmade;			/* DTs whose dt_guard trigger is dropped */
} AfterCommand;

/*
 * dt_capture_changes
 *		Trigger function: AFTER INSERT/UPDATE/DELETE/TRUNCATE FOR EACH
 *		STATEMENT, with the transition tables of its event, arguments (log
 *		relid, root relid): the capture triggers capture.c installs.
 */
Datum
dt_capture_changes(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		marker;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) ||
		!TRIGGER_FIRED_AFTER(td->tg_event) || td->tg_trigger->tgnargs != 2)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dt_internal.capture_changes() must be fired AFTER ... FOR EACH STATEMENT by pg_dynamic_tables")));

	if (((TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)) &&
		 td->tg_trigger->tgnewtable == NULL) ||
		((TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)) &&
		 td->tg_trigger->tgoldtable == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dt_internal.capture_changes() must be fired with the transition tables of its event")));

	/*
	 * Its commit wakes the scheduler (the table of the log is the root), if
	 * it wrote a change: a statement that changed no captured value leaves
	 * the tables reading it current.  A bulk load writes a marker with
	 * adaptive refresh on (with it off, refreshes are incremental), and so
	 * does TRUNCATE: the tables reading it are due at its commit.
	 */
	if (capture_write_changes(td, refresh_adaptive, &marker))
		workers_note_write(atooid(td->tg_trigger->tgargs[1]), marker);
	return PointerGetDatum(NULL);
}

/*
 * dt_guard_dynamic_table
 *		BEFORE ... FOR EACH STATEMENT trigger on every DT.
 */
Datum
dt_guard_dynamic_table(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dt_internal.guard_dynamic_table() must be fired as a trigger")));
	relid = RelationGetRelid(td->tg_relation);
	if (!refresh_in_progress(relid) && !dump_discarding_copy(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot modify dynamic table \"%s\"", RelationGetRelationName(td->tg_relation)),
				 errdetail("A dynamic table is written only by its refreshes."),
				 errhint("Change the tables its query reads, then call dt.refresh().")));
	/* fired for each row (not as installed), a refresh's row goes through */
	if (TRIGGER_FIRED_FOR_ROW(td->tg_event))
		return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
	return PointerGetDatum(NULL);
}

/*
 * dt_on_sql_drop
 *		sql_drop event trigger: forget what was dropped.
 */
Datum
dt_on_sql_drop(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("dt_internal.on_sql_drop() must be fired as an event trigger")));
	/* our own DROPs (of triggers, logs, log columns) need no follow-up */
	if (!catalog_internal_ddl_running())
	{
		ListCell   *lc;

		/* a unit of the workers' plan may hold it, or read it */
		foreach(lc, lifecycle_forget_dropped())
			workers_wake_scheduler(lfirst_oid(lc));
	}
	PG_RETURN_VOID();
}

/*
 * The extension's OID in this database as this backend last looked it up
 * (InvalidOid: not installed), valid until the next relcache invalidation.
 * Every utility statement asks, BEGIN and COMMIT too, and a scan of
 * pg_extension costs a tenth of a single-row INSERT.  pg_extension has
 * no catalog cache in every 15.x release to hang a callback on; creating
 * or dropping the extension creates or drops its tables, though, which
 * invalidates their relcache entries in every backend of the database (an
 * overflowed queue invalidates all), so any relcache invalidation drops
 * the answer.  DDL is rare next to BEGIN and COMMIT.
 */
static Oid	extension_oid = InvalidOid;
static bool extension_oid_known = false;
static uint64 relcache_invalidations = 0;

/* extension_relcache_callback: a relation changed, look up the OID again. */
static void
extension_relcache_callback(Datum arg, Oid relid)
{
	extension_oid_known = false;
	relcache_invalidations++;
}

/* extension_active: is our extension usable in this database right now? */
static bool
extension_active(void)
{
	static bool registered = false;

	if (!IsTransactionState() || catalog_internal_ddl_running())
		return false;
	if (!registered)
	{
		CacheRegisterRelcacheCallback(extension_relcache_callback, (Datum) 0);
		registered = true;
	}
	if (!extension_oid_known)
	{
		uint64		before = relcache_invalidations;
		Oid			ext = get_extension_oid(DT_EXTENSION_NAME, true);

		/* kept unless an invalidation came while looking */
		extension_oid = ext;
		extension_oid_known = relcache_invalidations == before;
	}
	if (!OidIsValid(extension_oid))
		return false;
	return !(creating_extension && CurrentExtensionObject == extension_oid);
}

/* relation_is_read: is relid captured, directly or as a child? */
static bool
relation_is_read(Oid relid)
{
	return capture_relation_is_captured(relid) || capture_ancestors_of(relid) != NIL;
}

/*
 * refuse_read_child
 *		A table a DT reads directly, or a DT, cannot become a partition or
 *		child: DML through the new parent would not fire its statement
 *		triggers, so its changes would go uncaptured, or the guard around a
 *		DT would be bypassed.
 */
static void
refuse_read_child(Oid relid)
{
	if (capture_relation_is_captured(relid) || catalog_is_dynamic_table(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot make \"%s\" a partition or child of another table", get_rel_name(relid)),
				 errdetail("It is a dynamic table or a dynamic table reads it; writes through the parent would not be seen.")));
}

/*
 * refuse_dt_parent
 *		A DT cannot become a parent either: reading it would read its
 *		children, which anyone who owns them writes.
 */
static void
refuse_dt_parent(Oid parent)
{
	if (OidIsValid(parent) && catalog_is_dynamic_table(parent))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot inherit from dynamic table \"%s\"", get_rel_name(parent)),
				 errdetail("A dynamic table holds the result of its query, and nothing else.")));
}

/* refuse_dt_change: the error for what of DT relname, which cannot change. */
static void
refuse_dt_change(const char *relname, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s of dynamic table \"%s\"", what, relname),
			 errdetail("The columns of a dynamic table are those of its defining query."),
			 errhint("Drop the dynamic table and create it again with another query.")));
}

/* is_trigger_command: subcommands that enable or disable triggers. */
static bool
is_trigger_command(AlterTableType type)
{
	switch (type)
	{
		case AT_EnableTrig:
		case AT_EnableAlwaysTrig:
		case AT_EnableReplicaTrig:
		case AT_DisableTrig:
		case AT_EnableTrigAll:
		case AT_DisableTrigAll:
		case AT_EnableTrigUser:
		case AT_DisableTrigUser:
			return true;
		default:
			return false;
	}
}

/*
 * note_disabled
 *		Before our triggers on relid are enabled again: note whether capture
 *		was off (its log is then marked for a rebuild) and whether its
 *		dt_guard was (the DT then loses its position).
 */
static void
note_disabled(AfterCommand *after, Oid relid)
{
	if (capture_triggers_disabled(relid, false))
		after->uncaptured = list_append_unique_oid(after->uncaptured, relid);
	if (capture_triggers_disabled(relid, true))
		after->unguarded = list_append_unique_oid(after->unguarded, relid);
}

/*
 * check_trigger_command
 *		Our triggers must fire ALWAYS: in any other mode writes would go
 *		uncaptured or unguarded, unnoticed.  ENABLE ALWAYS is what they are.
 *		DISABLE TRIGGER ALL or USER (pg_restore --disable-triggers) is
 *		allowed: while capture is off, the refreshes of the DTs reading the
 *		table are full; ENABLE TRIGGER ALL or USER puts ours back to ALWAYS,
 *		then marks the log for a rebuild if capture was off (the changes
 *		meanwhile were not captured), and makes a DT whose guard was off
 *		refresh in full (its rows were writable).
 */
static void
check_trigger_command(AlterTableStmt *stmt, AlterTableCmd *cmd, AfterCommand *after, Oid relid)
{
	switch (cmd->subtype)
	{
		case AT_EnableAlwaysTrig:
			/* one of ours, disabled by DISABLE TRIGGER ALL, back on */
			if (names_is_extension_trigger(cmd->name))
				note_disabled(after, relid);
			break;
		case AT_EnableTrig:
		case AT_EnableReplicaTrig:
		case AT_DisableTrig:
			if (names_is_extension_trigger(cmd->name))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot change trigger \"%s\" of \"%s\"", cmd->name, stmt->relation->relname),
						 errdetail("pg_dynamic_tables needs it to fire always: it captures the changes dynamic tables are refreshed from, or keeps writes out of a dynamic table.")));
			break;
		case AT_DisableTrigUser:
		case AT_DisableTrigAll:
			/* pg_restore --disable-triggers; refreshes meanwhile are full */
			break;
		case AT_EnableTrigAll:
		case AT_EnableTrigUser:
			after->always_again = lappend_oid(after->always_again, relid);
			note_disabled(after, relid);
			break;
		default:
			break;
	}
}

/*
 * check_dt_subcommand
 *		A subcommand of ALTER TABLE on DT relid: only storage and ownership
 *		settings (but SET UNLOGGED), row-level security for its readers (not
 *		forced on its owner) and the triggers (check_trigger_command) may
 *		change; a new owner gets the DT's state objects too.
 */
static void
check_dt_subcommand(AlterTableStmt *stmt, AlterTableCmd *cmd, AfterCommand *after, Oid relid)
{
	switch (cmd->subtype)
	{
		case AT_ChangeOwner:
			after->new_owner = lappend_oid(after->new_owner, relid);
			break;
		case AT_SetRelOptions:
		case AT_ResetRelOptions:
		case AT_ReplaceRelOptions:
		case AT_SetTableSpace:
		case AT_ClusterOn:
		case AT_DropCluster:
		case AT_SetStatistics:
		case AT_SetStorage:
		case AT_SetCompression:
		case AT_SetLogged:
		case AT_ReplicaIdentity:
		case AT_EnableRowSecurity:
		case AT_DisableRowSecurity:
		case AT_NoForceRowSecurity:
			break;
		case AT_ForceRowSecurity:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot force row-level security on dynamic table \"%s\"", stmt->relation->relname),
					 errdetail("Its refreshes run as its owner, and must see and write all of its rows.")));
			break;
		case AT_SetUnLogged:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot make dynamic table \"%s\" unlogged", stmt->relation->relname),
					 errdetail("A crash would empty it while it counts as populated and up to date.")));
			break;
		default:
			if (!is_trigger_command(cmd->subtype))
				refuse_dt_change(stmt->relation->relname, "change the definition");
	}
}

/*
 * check_input_subcommand
 *		A subcommand of ALTER TABLE on relid, which a DT may read (is_read:
 *		its changes are captured, directly or as a child): the type of a
 *		column a DT reads stays; partitions and children that arrive or
 *		leave are followed up.
 */
static void
check_input_subcommand(AlterTableStmt *stmt, AlterTableCmd *cmd, AfterCommand *after, Oid relid,
					   bool is_read)
{
	switch (cmd->subtype)
	{
		case AT_AlterColumnType:
			{
				AttrNumber	att = get_attnum(relid, cmd->name);
				char	   *reader = att != InvalidAttrNumber ? catalog_dt_reading_column(relid, att) : NULL;

				if (reader != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot alter type of a column used by a dynamic table"),
							 errdetail("Column \"%s\" of \"%s\" is read by dynamic table \"%s\".",
									   cmd->name, stmt->relation->relname, reader),
							 errhint("Drop the dynamic table, alter the column, and create the dynamic table again.")));
				if (att != InvalidAttrNumber && !capture_release_column(relid, att))
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot alter type of a column recorded by a change log"),
							 errdetail("Column \"%s\" of \"%s\" is recorded by its change log, which has no room to drop it (a table has at most %d columns, dropped ones included).",
									   cmd->name, stmt->relation->relname, MaxHeapAttributeNumber),
							 errhint("Drop the dynamic tables that read \"%s\", alter the column, and create them again.",
									 stmt->relation->relname)));
				break;
			}
		case AT_AddColumn:
			{
				/*
				 * A new column would be part of every whole row, which the
				 * change log does not record: every refresh would fail.
				 */
				char	   *reader = is_read ? catalog_dt_reading_whole_rows(relid, 0) : NULL;

				if (reader != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot add a column to \"%s\", whose whole rows a dynamic table reads",
									stmt->relation->relname),
							 errdetail("Dynamic table \"%s\" reads the rows of \"%s\" as a whole (a whole-row reference such as \"%s\" or \"%s.*\" as one value).",
									   reader, stmt->relation->relname, stmt->relation->relname,
									   stmt->relation->relname),
							 errhint("Drop the dynamic table, add the column, and create the dynamic table again.")));
				break;
			}
		case AT_DropColumn:
			{
				/*
				 * A whole-row reference depends on the table, not on its
				 * columns, so PostgreSQL drops a column it reads; its change
				 * log would then no longer match the table, and every write
				 * of the table fail.
				 */
				AttrNumber	att = is_read ? get_attnum(relid, cmd->name) : InvalidAttrNumber;
				char	   *reader = att > 0 ? catalog_dt_reading_whole_rows(relid, att) : NULL;

				if (reader != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot drop column \"%s\" of \"%s\", whose whole rows a dynamic table reads",
									cmd->name, stmt->relation->relname),
							 errdetail("Dynamic table \"%s\" reads the rows of \"%s\" as a whole (a whole-row reference such as \"%s\" or \"%s.*\" as one value).",
									   reader, stmt->relation->relname, stmt->relation->relname,
									   stmt->relation->relname),
							 errhint("Drop the dynamic table, drop the column, and create the dynamic table again.")));
				break;
			}
		case AT_AttachPartition:
			{
				Oid			child = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, false);

				refuse_read_child(child);
				if (is_read)
				{
					after->new_children = lappend_oid(after->new_children, child);
					after->brought_rows = true;
				}
				break;
			}
		case AT_DetachPartition:
		case AT_DetachPartitionFinalize:
			if (is_read)
			{
				Oid			child = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, false);

				after->leaving = lappend_oid(after->leaving, child);
				after->leaving_ancestors = lappend(after->leaving_ancestors, capture_ancestors_of(child));
			}
			break;
		case AT_AddInherit:
			refuse_read_child(relid);
			refuse_dt_parent(RangeVarGetRelid((RangeVar *) cmd->def, NoLock, true));
			if (relation_is_read(RangeVarGetRelid((RangeVar *) cmd->def, NoLock, false)))
			{
				after->new_children = lappend_oid(after->new_children, relid);
				after->brought_rows = true;
			}
			break;
		case AT_DropInherit:
			if (is_read)
			{
				after->leaving = lappend_oid(after->leaving, relid);
				after->leaving_ancestors = lappend(after->leaving_ancestors, capture_ancestors_of(relid));
			}
			break;
		default:
			break;
	}
}

/*
 * check_foreign_key
 *		A foreign key added by cmd (ADD CONSTRAINT, ADD COLUMN ...
 *		REFERENCES, and CREATE TABLE, whose foreign keys come as ADD
 *		CONSTRAINT) may not reference a DT, as none references a
 *		materialized view: a full refresh deletes all of its rows before it
 *		writes them again, which the key would refuse or carry over to the
 *		referencing rows.  (refuse_unsafe_refresh stops the refreshes of a
 *		DT one made before references.)
 */
static void
check_foreign_key(AlterTableCmd *cmd)
{
	List	   *constraints = NIL;
	ListCell   *lc;

	if (cmd->subtype == AT_AddConstraint && IsA(cmd->def, Constraint))
		constraints = list_make1(cmd->def);
	else if (cmd->subtype == AT_AddColumn && IsA(cmd->def, ColumnDef))
		constraints = ((ColumnDef *) cmd->def)->constraints;
	foreach(lc, constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);
		Oid			referenced;

		if (con->contype != CONSTR_FOREIGN)
			continue;
		referenced = RangeVarGetRelid(con->pktable, NoLock, true);
		if (OidIsValid(referenced) && catalog_is_dynamic_table(referenced))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("a foreign key cannot reference dynamic table \"%s\"", con->pktable->relname),
					 errdetail("A full refresh deletes all of its rows before it writes them again, which the foreign key would refuse or carry over to the referencing rows.")));
	}
}

/*
 * check_alter_table
 *		ALTER TABLE on a DT, on a relation a DT reads, or on a partition of
 *		one.
 */
static void
check_alter_table(AlterTableStmt *stmt, AfterCommand *after)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	bool		is_dt;
	bool		is_read;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	is_dt = catalog_is_dynamic_table(relid);
	is_read = relation_is_read(relid);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if ((is_dt || is_read) && is_trigger_command(cmd->subtype))
			check_trigger_command(stmt, cmd, after, relid);
		if (is_dt)
			check_dt_subcommand(stmt, cmd, after, relid);
		check_input_subcommand(stmt, cmd, after, relid, is_read);
		check_foreign_key(cmd);
	}
}

/*
 * is_capture_trigger_of
 *		Is the trigger of relid called name one of the capture triggers the
 *		extension installed?  They are internal triggers, which no CREATE
 *		TRIGGER makes: a user's trigger of such a name (made before the
 *		names were reserved) is not one.
 */
static bool
is_capture_trigger_of(Oid relid, const char *name)
{
	Relation	triggers;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	if (!OidIsValid(relid) || !names_is_capture_trigger(name))
		return false;
	triggers = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(name));
	scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, NULL, 2, key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		found = ((Form_pg_trigger) GETSTRUCT(tup))->tgisinternal;
	systable_endscan(scan);
	table_close(triggers, AccessShareLock);
	return found;
}

/*
 * refuse_reserved_trigger_name
 *		The names of capture triggers are the extension's: it finds its
 *		triggers by name.
 */
static void
refuse_reserved_trigger_name(const char *name)
{
	if (names_is_capture_trigger(name))
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("trigger name \"%s\" is reserved", name),
				 errdetail("The prefix \"%s\" is reserved for the triggers of pg_dynamic_tables.",
						   DT_CAPTURE_TRIGGER_PREFIX)));
}

/* check_rename: columns of a DT keep the query's names; our triggers stay. */
static void
check_rename(RenameStmt *stmt)
{
	Oid			relid;

	if (stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	if (stmt->renameType == OBJECT_COLUMN && catalog_is_dynamic_table(relid))
		refuse_dt_change(stmt->relation->relname, "rename a column");
	if (stmt->renameType != OBJECT_TRIGGER)
		return;
	if ((strcmp(stmt->subname, DT_GUARD_TRIGGER) == 0 && catalog_is_dynamic_table(relid)) ||
		is_capture_trigger_of(relid, stmt->subname))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot rename trigger \"%s\" of \"%s\"", stmt->subname, stmt->relation->relname),
				 errdetail("pg_dynamic_tables finds its triggers by name.")));
	refuse_reserved_trigger_name(stmt->newname);
}

/*
 * check_drop
 *		Capture triggers and the key index of a DT cannot be dropped (the
 *		index goes with its DT); dropping the dt_guard trigger of
 *		a DT makes it a plain table; a dropped child of a captured table
 *		takes its rows with it, so its ancestors' readers rebuild.
 */
static void
check_drop(DropStmt *stmt, AfterCommand *after)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		if (stmt->removeType == OBJECT_TRIGGER)
		{
			List	   *names = (List *) lfirst(lc);
			char	   *trigger = strVal(llast(names));
			Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(list_truncate(list_copy(names),
																						list_length(names) - 1)),
												 NoLock, true);

			if (strcmp(trigger, DT_GUARD_TRIGGER) == 0)
			{
				/* the table stays, as a plain table (pg_restore --clean) */
				if (OidIsValid(relid) && catalog_is_dynamic_table(relid))
				{
					refresh_refuse_nested("drop the dt_guard trigger of a dynamic table");
					after->unmade = lappend_oid(after->unmade, relid);
				}
			}
			else if (is_capture_trigger_of(relid, trigger))
				ereport(ERROR,
						(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
						 errmsg("cannot drop trigger \"%s\" because dynamic tables depend on it", trigger),
						 errhint("Drop the dynamic tables that read the table instead.")));
		}
		else if (stmt->removeType == OBJECT_INDEX)
		{
			Oid			index = RangeVarGetRelid(makeRangeVarFromNameList((List *) lfirst(lc)),
												 NoLock, true);
			Oid			owner = OidIsValid(index) ? lifecycle_key_index_owner(index) : InvalidOid;

			ObjectAddress indexaddr;
			ObjectAddress owneraddr;

			if (!OidIsValid(owner))
				continue;
			/* as PostgreSQL words it for an index internal to a table */
			ObjectAddressSet(indexaddr, RelationRelationId, index);
			ObjectAddressSet(owneraddr, RelationRelationId, owner);
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop %s because %s requires it",
							getObjectDescription(&indexaddr, false),
							getObjectDescription(&owneraddr, false)),
					 errdetail("It is the key index that refreshes of the dynamic table write through."),
					 errhint("You can drop %s instead.", getObjectDescription(&owneraddr, false))));
		}
		else if (stmt->removeType == OBJECT_TABLE)
		{
			RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
			Oid			relid = RangeVarGetRelid(rv, NoLock, true);
			List	   *ancestors;

			if (!OidIsValid(relid))
				continue;
			ancestors = capture_ancestors_of(relid);
			if (ancestors != NIL)
			{
				after->leaving = lappend_oid(after->leaving, relid);
				after->leaving_ancestors = lappend(after->leaving_ancestors, ancestors);
			}
		}
	}
}

/* check_create: a new partition or child of a captured table, or of a DT. */
static void
check_create(CreateStmt *stmt, AfterCommand *after)
{
	ListCell   *lc;

	after->table_existed = OidIsValid(RangeVarGetRelid(stmt->relation, NoLock, true));

	foreach(lc, stmt->inhRelations)
	{
		Oid			parent = RangeVarGetRelid((RangeVar *) lfirst(lc), NoLock, true);

		refuse_dt_parent(parent);
		/* the child's OID is known once it exists */
		if (OidIsValid(parent) && relation_is_read(parent) && after->new_children == NIL)
			after->new_children = lappend_oid(after->new_children, InvalidOid);
	}
}

/* ---------------------------------------------------------------------
 * The internal objects in dt_internal
 * ---------------------------------------------------------------------
 */

/* relation_is_internal: does rv name an existing relation in dt_internal? */
static bool
relation_is_internal(RangeVar *rv)
{
	Oid			relid = rv ? RangeVarGetRelid(rv, NoLock, true) : InvalidOid;

	return OidIsValid(relid) &&
		get_rel_namespace(relid) == get_namespace_oid(DT_INTERNAL_SCHEMA, false);
}

/* type_is_internal: do names (a TypeName or a qualified name) name a type in dt_internal? */
static bool
type_is_internal(Node *names)
{
	TypeName   *tn = IsA(names, TypeName) ? (TypeName *) names : makeTypeNameFromNameList((List *) names);
	Oid			type = LookupTypeNameOid(NULL, tn, true);
	HeapTuple	tup;
	Oid			nsp;

	if (!OidIsValid(type) || !HeapTupleIsValid(tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type))))
		return false;
	nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
	ReleaseSysCache(tup);
	return nsp == get_namespace_oid(DT_INTERNAL_SCHEMA, false);
}

/* object_is_internal: an object of a DROP, ALTER ... RENAME/OWNER/SET SCHEMA. */
static bool
object_is_internal(ObjectType type, Node *object)
{
	switch (type)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_INDEX:
		case OBJECT_SEQUENCE:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
			return relation_is_internal(makeRangeVarFromNameList((List *) object));
		case OBJECT_TRIGGER:
		case OBJECT_RULE:
		case OBJECT_POLICY:
			/* the name of the relation, then the object's */
			return list_length((List *) object) > 1 &&
				relation_is_internal(makeRangeVarFromNameList(list_truncate(list_copy((List *) object),
																			list_length((List *) object) - 1)));
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			return type_is_internal(object);
		default:
			return false;
	}
}

/* roles_of: the OIDs of a List of RoleSpec (DROP OWNED BY ...). */
static List *
roles_of(List *rolespecs)
{
	List	   *roles = NIL;
	ListCell   *lc;

	foreach(lc, rolespecs)
		roles = lappend_oid(roles, get_rolespec_oid((RoleSpec *) lfirst(lc), false));
	return roles;
}

/*
 * dynamic_tables_owned_by
 *		The DTs the roles own, whose state objects REASSIGN OWNED gives to
 *		the new owner with them: their privileges, which include the
 *		owner's, are then recorded again as the extension members' initial
 *		ones (catalog_follow_owner), or pg_dump would dump the change, for
 *		objects that a restore makes anew under other names.
 */
static List *
dynamic_tables_owned_by(List *roles)
{
	List	   *owned = NIL;
	ListCell   *lc;

	foreach(lc, catalog_dynamic_tables())
	{
		Oid			relid = lfirst_oid(lc);

		if (get_rel_name(relid) != NULL && list_member_oid(roles, catalog_relation_owner(relid)))
			owned = lappend_oid(owned, relid);
	}
	return owned;
}

/*
 * check_create_trigger
 *		A dt_guard trigger made by anything but the extension is a restore
 *		(dump.c): the table becomes a DT once it exists.  The triggers of a
 *		DT and the capture triggers (and their names) are the extension's
 *		alone: a user's trigger on a DT would fire in its refreshes, where
 *		a BEFORE trigger that changes or skips a row, or any trigger that
 *		writes the DT, leaves it different from its query (as a
 *		materialized view, a DT cannot have triggers).
 */
static void
check_create_trigger(CreateTrigStmt *stmt, AfterCommand *after)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	bool		is_dt = OidIsValid(relid) && catalog_is_dynamic_table(relid);

	refuse_reserved_trigger_name(stmt->trigname);
	if (dump_is_guard_function(stmt->funcname))
	{
		if (strcmp(stmt->trigname, DT_GUARD_TRIGGER) != 0 || stmt->row || stmt->isconstraint)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("function dt_internal.guard_dynamic_table() is only for the dt_guard trigger of a dynamic table")));
		if (is_dt)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("dynamic table \"%s\" has its dt_guard trigger", stmt->relation->relname),
					 errhint("Use dt.alter_dynamic_table() to change it.")));
		after->guarded = relid;
	}
	else if (is_dt && strcmp(stmt->trigname, DT_GUARD_TRIGGER) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("dynamic table \"%s\" has its dt_guard trigger", stmt->relation->relname)));
	else if (is_dt)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot create trigger on dynamic table \"%s\"", stmt->relation->relname),
				 errdetail("A dynamic table holds the result of its query; its refreshes would fire the trigger, which could change what it holds.")));
	else if (capture_is_capture_function(stmt->funcname))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("function dt_internal.capture_changes() is only for the triggers pg_dynamic_tables installs")));
}

/*
 * dynamic_table_of_copy
 *		The DT a COPY ... FROM writes into, or InvalidOid.
 */
static Oid
dynamic_table_of_copy(CopyStmt *stmt)
{
	Oid			relid;

	if (!stmt->is_from || stmt->relation == NULL)
		return InvalidOid;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	return OidIsValid(relid) && catalog_is_dynamic_table(relid) ? relid : InvalidOid;
}

/*
 * is_our_extension_drop
 *		DROP EXTENSION naming pg_dynamic_tables.
 */
static bool
is_our_extension_drop(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		if (strcmp(strVal(lfirst(lc)), DT_EXTENSION_NAME) == 0)
			return true;
	}
	return false;
}

/*
 * drop_empty_schema_dt
 *		After DROP EXTENSION ... CASCADE: CREATE EXTENSION made schema dt
 *		for it (the control file names it), or a restore did, but PostgreSQL
 *		keeps a schema an extension lives in out of the extension, so it
 *		stays behind.  Drop it, unless something else is in it.  Without
 *		CASCADE it stays, as any extension's schema does: pg_restore
 *		--clean drops the extension, then schema dt (pg_dump dumps it).
 */
static void
drop_empty_schema_dt(void)
{
	Oid			nsp = get_namespace_oid(DT_SCHEMA, true);
	Relation	depend;
	ScanKeyData key[2];
	SysScanDesc scan;
	bool		empty;

	if (!OidIsValid(nsp))
		return;
	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(NamespaceRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(nsp));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
	empty = !HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	if (empty)
	{
		ObjectAddress schema;

		ObjectAddressSet(schema, NamespaceRelationId, nsp);
		performDeletion(&schema, DROP_RESTRICT, 0);
	}
}

/*
 * cascades
 *		Can the command drop objects it does not name (CASCADE), and so reach
 *		the internal objects of the extension through what they use?
 */
static bool
cascades(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			return ((DropStmt *) parsetree)->behavior == DROP_CASCADE;
		case T_DropOwnedStmt:
			return ((DropOwnedStmt *) parsetree)->behavior == DROP_CASCADE;
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
			{
				AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

				if (cmd->subtype == AT_DropColumn && cmd->behavior == DROP_CASCADE)
					return true;
			}
			return false;
		default:
			return false;
	}
}

/*
 * dropped_object
 *		The object a DROP names, as RemoveObjects finds it (with its lock),
 *		or for a relation as RemoveRelations does (no lock before its
 *		ownership is checked); objectId is invalid if it does not exist.
 */
static ObjectAddress
dropped_object(ObjectType type, Node *name)
{
	ObjectAddress object;
	Relation	rel = NULL;

	switch (type)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_INDEX:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			ObjectAddressSet(object, RelationRelationId,
							 RangeVarGetRelid(makeRangeVarFromNameList((List *) name), NoLock, true));
			break;
		default:
			object = get_object_address(type, name, &rel, AccessExclusiveLock, true);
			if (rel != NULL)
				table_close(rel, NoLock);
			break;
	}
	return object;
}

/*
 * release_for_cascade
 *		Before a cascading command: release the internal objects what it
 *		drops can reach (lifecycle_release_members): what a DROP names, the
 *		table of ALTER TABLE ... DROP COLUMN; for DROP OWNED, all of them.
 */
static List *
release_for_cascade(Node *parsetree)
{
	List	   *objects = NIL;
	ListCell   *lc;

	if (IsA(parsetree, DropOwnedStmt))
		return lifecycle_release_members(NIL, true);
	if (IsA(parsetree, DropStmt))
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			ObjectAddress object = dropped_object(((DropStmt *) parsetree)->removeType, lfirst(lc));

			if (OidIsValid(object.objectId))
			{
				ObjectAddress *copy = palloc(sizeof(ObjectAddress));

				*copy = object;
				objects = lappend(objects, copy);
			}
		}
	}
	else
	{
		ObjectAddress *table = palloc(sizeof(ObjectAddress));

		ObjectAddressSet(*table, RelationRelationId,
						 RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation, NoLock, true));
		if (OidIsValid(table->objectId))
			objects = lappend(objects, table);
	}
	return lifecycle_release_members(objects, false);
}

/*
 * refuse_made_on_internal
 *		CREATE INDEX, TRIGGER, RULE or POLICY ("what") on rv, a relation of
 *		dt_internal, is refused to everyone: DROP INDEX, TRIGGER, RULE or
 *		POLICY of one there is refused even to a superuser
 *		(check_internal_objects: the extension's own, its indexes, the
 *		capture triggers on internal DTs, the rule of a view, are no members
 *		of it, and cannot be told from others), so one made by hand could
 *		never be dropped.  Before, a superuser could create an index on a
 *		state table, or a trigger on the history, and then not drop it.  (A
 *		constraint that ALTER TABLE adds, which a superuser may, goes with
 *		ALTER TABLE ... DROP CONSTRAINT; the tests inject failures so.)
 */
static void
refuse_made_on_internal(RangeVar *rv, const char *what)
{
	if (!relation_is_internal(rv))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("cannot create %s on relation \"%s\"", what, rv->relname),
			 errdetail("Relation \"%s\" is an internal object of pg_dynamic_tables, whose indexes, triggers, rules "
					   "and policies the extension alone makes and drops: one made by hand could not be dropped.",
					   rv->relname)));
}

/*
 * created_in_internal
 *		What relation or type a CREATE statement makes in schema dt_internal
 *		by hand, or NULL.  Nobody could drop it again: DROP of a relation or
 *		type there is refused to superusers too (check_internal_objects),
 *		since the extension's own cannot be told from it.  The extension's
 *		own DDL (catalog_exec_ddl, its scripts) is not checked.
 */
static const char *
created_in_internal(Node *parsetree)
{
	RangeVar   *rv = NULL;
	List	   *names = NIL;
	char	   *objname;
	Oid			internal = get_namespace_oid(DT_INTERNAL_SCHEMA, false);

	/* EXPLAIN ANALYZE CREATE TABLE ... AS runs it */
	if (IsA(parsetree, ExplainStmt) && IsA(((ExplainStmt *) parsetree)->query, Query) &&
		((Query *) ((ExplainStmt *) parsetree)->query)->commandType == CMD_UTILITY)
		parsetree = ((Query *) ((ExplainStmt *) parsetree)->query)->utilityStmt;
	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
			rv = ((CreateStmt *) parsetree)->relation;
			break;
		case T_ViewStmt:
			rv = ((ViewStmt *) parsetree)->view;
			break;
		case T_CreateTableAsStmt:
			rv = ((CreateTableAsStmt *) parsetree)->into->rel;
			break;
		case T_CreateSeqStmt:
			rv = ((CreateSeqStmt *) parsetree)->sequence;
			break;
		case T_CompositeTypeStmt:
			rv = ((CompositeTypeStmt *) parsetree)->typevar;
			break;
		case T_CreateEnumStmt:
			names = ((CreateEnumStmt *) parsetree)->typeName;
			break;
		case T_CreateRangeStmt:
			names = ((CreateRangeStmt *) parsetree)->typeName;
			break;
		case T_CreateDomainStmt:
			names = ((CreateDomainStmt *) parsetree)->domainname;
			break;
		case T_DefineStmt:
			if (((DefineStmt *) parsetree)->kind == OBJECT_TYPE)
				names = ((DefineStmt *) parsetree)->defnames;
			break;
		default:
			break;
	}
	if (rv != NULL && rv->relpersistence != RELPERSISTENCE_TEMP &&
		RangeVarGetCreationNamespace(rv) == internal)
		return rv->relname;
	if (names != NIL && QualifiedNameGetCreationNamespace(names, &objname) == internal)
		return objname;
	return NULL;
}

/*
 * check_internal_objects
 *		The objects in dt_internal are made and changed by the extension
 *		only.  The state of a DT belongs to the DT's owner, who refreshes
 *		through it, and so may otherwise alter, rename, index or drop it: a
 *		state table renamed (or an index created on it) as changes_<oid>
 *		would pass for the change log of another role's table.  So DDL of
 *		ordinary roles on them is refused; superusers (repairs) are let
 *		through, but for CREATE INDEX, TRIGGER, RULE and POLICY on them, and
 *		CREATE of a relation or type in dt_internal, which nobody could drop
 *		again (refuse_made_on_internal, created_in_internal), and for DROP: they are extension
 *		members, which PostgreSQL never drops by name, and a DROP ... CASCADE takes them out of the
 *		extension for a moment (lifecycle_release_members); and for RENAME
 *		and SET SCHEMA: the extension finds them by their names (an internal
 *		DT renamed would leave its parent reading nothing), and schema
 *		dt_internal by its name, which nobody renames.  (TRUNCATE,
 *		VACUUM, ANALYZE, GRANT and COMMENT are let through: refreshes
 *		truncate the state, and none of them makes or names a relation.)
 */
static void
check_internal_objects(Node *parsetree)
{
	bool		internal = false;
	const char *made;
	ListCell   *lc;

	/* what nobody could drop, superusers included */
	if (IsA(parsetree, IndexStmt))
		refuse_made_on_internal(((IndexStmt *) parsetree)->relation, "index");
	else if (IsA(parsetree, CreateTrigStmt))
		refuse_made_on_internal(((CreateTrigStmt *) parsetree)->relation, "trigger");
	else if (IsA(parsetree, RuleStmt))
		refuse_made_on_internal(((RuleStmt *) parsetree)->relation, "rule");
	else if (IsA(parsetree, CreatePolicyStmt))
		refuse_made_on_internal(((CreatePolicyStmt *) parsetree)->table, "policy");
	if ((made = created_in_internal(parsetree)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot create \"%s\" in schema \"%s\"", made, DT_INTERNAL_SCHEMA),
				 errdetail("Schema \"%s\" holds the internal objects of pg_dynamic_tables, which the extension "
						   "alone makes and drops: one made by hand could not be dropped.", DT_INTERNAL_SCHEMA)));

	/*
	 * Members of the extension: nobody drops them by name; and they are found
	 * by their names, so nobody renames or moves them either.
	 */
	if (superuser() && !IsA(parsetree, DropStmt) && !IsA(parsetree, RenameStmt) &&
		!IsA(parsetree, AlterObjectSchemaStmt))
		return;
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			internal = relation_is_internal(((AlterTableStmt *) parsetree)->relation);
			break;
		case T_AlterPolicyStmt:
			internal = relation_is_internal(((AlterPolicyStmt *) parsetree)->table);
			break;
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_SCHEMA && strcmp(stmt->subname, DT_INTERNAL_SCHEMA) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot rename schema \"%s\"", DT_INTERNAL_SCHEMA),
							 errdetail("pg_dynamic_tables finds its internal objects by the name of their schema.")));
				internal = stmt->relation != NULL ? relation_is_internal(stmt->relation)
					: object_is_internal(stmt->renameType, stmt->object);
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				internal = stmt->relation != NULL ? relation_is_internal(stmt->relation)
					: object_is_internal(stmt->objectType, stmt->object);
				break;
			}
		case T_AlterOwnerStmt:
			{
				AlterOwnerStmt *stmt = (AlterOwnerStmt *) parsetree;

				internal = stmt->relation != NULL ? relation_is_internal(stmt->relation)
					: object_is_internal(stmt->objectType, stmt->object);
				break;
			}
		case T_DropStmt:
			foreach(lc, ((DropStmt *) parsetree)->objects)
				internal = internal || object_is_internal(((DropStmt *) parsetree)->removeType,
														  (Node *) lfirst(lc));
			break;
		default:
			break;
	}
	if (internal)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot change an object of schema \"%s\"", DT_INTERNAL_SCHEMA),
				 errdetail("The internal objects of pg_dynamic_tables are made and changed by the extension only."),
				 errhint("Drop the dynamic table to drop its internal objects.")));
}

/*
 * release_busy_database
 *		DROP DATABASE, renaming a database and copying it as a template
 *		need it free of connections, our workers' included; this applies
 *		whether the current database has the extension or not.  ALTER
 *		DATABASE ... SET (pg_dynamic_tables.enabled, say) has the workers
 *		read the database's schedule again.
 */
static void
release_busy_database(Node *parsetree)
{
	ListCell   *lc;

	if (IsA(parsetree, DropdbStmt))
		workers_release_database(get_database_oid(((DropdbStmt *) parsetree)->dbname, true));
	else if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
		workers_release_database(get_database_oid(((RenameStmt *) parsetree)->subname, true));
	else if (IsA(parsetree, AlterDatabaseSetStmt))
		workers_database_changed(get_database_oid(((AlterDatabaseSetStmt *) parsetree)->dbname, true));
	else if (IsA(parsetree, CreatedbStmt))
	{
		foreach(lc, ((CreatedbStmt *) parsetree)->options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "template") == 0)
				workers_release_database(get_database_oid(defGetString(def), true));
		}
	}
}

/*
 * renamed_object
 *		What a RenameStmt or AlterObjectSchemaStmt renames or moves, looked
 *		up before it runs: the relation of anything a relation names (a
 *		column, a constraint, a trigger...), else the object itself (a
 *		schema, a function, a type...; a domain for its constraint), locked
 *		as the command locks it;
 *		invalid if it does not exist, which the command then reports, or
 *		is a role, database or tablespace.
 */
static ObjectAddress
renamed_object(Node *parsetree)
{
	ObjectAddress address = InvalidObjectAddress;
	RangeVar   *relation;
	ObjectType	type;
	Node	   *object;
	Relation	rel = NULL;

	if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		if (stmt->renameType == OBJECT_SCHEMA)
		{
			ObjectAddressSet(address, NamespaceRelationId, get_namespace_oid(stmt->subname, true));
			return address;
		}
		relation = stmt->relation;
		type = stmt->renameType;
		object = stmt->object;
	}
	else
	{
		AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

		relation = stmt->relation;
		type = stmt->objectType;
		object = stmt->object;
	}
	/* these name a type (a domain's, for a constraint) by a List */
	if (type == OBJECT_DOMCONSTRAINT)
		type = OBJECT_DOMAIN;
	if ((type == OBJECT_TYPE || type == OBJECT_DOMAIN) && object != NULL)
		object = (Node *) makeTypeNameFromNameList(castNode(List, object));
	if (relation != NULL)
		ObjectAddressSet(address, RelationRelationId, RangeVarGetRelid(relation, NoLock, true));
	else if (object != NULL)
	{
		address = get_object_address(type, object, &rel, AccessExclusiveLock, true);
		if (rel != NULL)
			table_close(rel, NoLock);
	}
	return address;
}

/*
 * refuse_replacing_read_view
 *		CREATE OR REPLACE VIEW (or RULE) of a view a DT reads, directly or
 *		through other views: the DT's stored query has the view's query of
 *		its creation expanded in it, and would not follow.  (ALTER VIEW
 *		cannot change a view's query.)
 */
static void
refuse_replacing_read_view(RangeVar *view)
{
	Oid			relid = RangeVarGetRelid(view, NoLock, true);
	char	   *reader;

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_VIEW)
		return;
	reader = catalog_dt_reading_column(relid, 0);
	if (reader != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot replace view \"%s\" because dynamic table \"%s\" reads it",
						view->relname, reader),
				 errdetail("A dynamic table keeps the query of the views it reads as they were when it was created."),
				 errhint("Drop the dynamic table, replace the view, and create the dynamic table again.")));
}

/*
 * check_command
 *		Before a utility command runs, with the extension active: refuse
 *		what would break a DT, and note in *after what to follow up.  A COPY
 *		into a DT is replaced by one that leaves its rows out (*pstmt, which
 *		is then not read-only).
 */
static void
check_command(PlannedStmt **pstmt, bool *readOnlyTree, AfterCommand *after)
{
	Node	   *parsetree = (*pstmt)->utilityStmt;

	check_internal_objects(parsetree);
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			check_alter_table((AlterTableStmt *) parsetree, after);
			break;
		case T_RenameStmt:
			check_rename((RenameStmt *) parsetree);
			dump_renew_trees();
			after->renamed = renamed_object(parsetree);
			break;
		case T_AlterObjectSchemaStmt:
			dump_renew_trees();
			after->renamed = renamed_object(parsetree);
			break;
		case T_DropStmt:
			check_drop((DropStmt *) parsetree, after);
			after->dropped_extension = is_our_extension_drop((DropStmt *) parsetree);
			break;
		case T_DropOwnedStmt:
			lifecycle_release_members_of(roles_of(((DropOwnedStmt *) parsetree)->roles));
			break;
		case T_ReassignOwnedStmt:
			after->new_owner = dynamic_tables_owned_by(roles_of(((ReassignOwnedStmt *) parsetree)->roles));
			break;
		case T_CreateTrigStmt:
			check_create_trigger((CreateTrigStmt *) parsetree, after);
			break;
		case T_CopyStmt:
			{
				Oid			dt = dynamic_table_of_copy((CopyStmt *) parsetree);

				if (OidIsValid(dt))
				{
					PlannedStmt *copy = makeNode(PlannedStmt);

					memcpy(copy, *pstmt, sizeof(PlannedStmt));
					copy->utilityStmt = dump_discard_copy((CopyStmt *) parsetree, dt);
					*pstmt = copy;
					*readOnlyTree = false;
				}
				break;
			}
		case T_CreateStmt:
			check_create((CreateStmt *) parsetree, after);
			break;
		case T_RuleStmt:
			{
				RuleStmt   *rule = (RuleStmt *) parsetree;
				Oid			relid = RangeVarGetRelid(rule->relation, NoLock, true);

				if (OidIsValid(relid) && catalog_is_dynamic_table(relid))
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot create a rule on dynamic table \"%s\"", rule->relation->relname),
							 errdetail("A dynamic table holds the result of its query; rules would change what it is.")));
				if (rule->replace)
					refuse_replacing_read_view(rule->relation);
				break;
			}
		case T_ViewStmt:
			if (((ViewStmt *) parsetree)->replace)
				refuse_replacing_read_view(((ViewStmt *) parsetree)->view);
			break;
		default:
			break;
	}
	if (cascades(parsetree) && !after->dropped_extension)
		after->released = release_for_cascade(parsetree);
}

/* follow_up_steps: follow_up's work, under a snapshot. */
static void
follow_up_steps(Node *parsetree, AfterCommand *after)
{
	ListCell   *lc;
	ListCell   *lc2;

	if (after->released != NIL)
		lifecycle_adopt_members(after->released);
	if (OidIsValid(after->guarded))
	{
		dump_restore_dynamic_table(after->guarded);
		workers_wake_scheduler(after->guarded);
	}
	dump_refresh_definitions(after->renamed);
	foreach(lc, after->unmade)
	{
		lifecycle_unmake_dynamic(lfirst_oid(lc));
		workers_wake_scheduler(lfirst_oid(lc));
	}
	foreach(lc, after->new_children)
	{
		Oid			child = lfirst_oid(lc);

		if (!OidIsValid(child))
		{
			if (after->table_existed)
				continue;
			child = RangeVarGetRelid(((CreateStmt *) parsetree)->relation, NoLock, false);
		}
		capture_follow_new_child(child, after->brought_rows);
	}
	forboth(lc, after->leaving, lc2, after->leaving_ancestors)
		capture_forget_child(lfirst_oid(lc), (List *) lfirst(lc2));
	foreach(lc, after->always_again)
		capture_enable_always(lfirst_oid(lc));
	foreach(lc, after->uncaptured)
		capture_mark_captured_rebuild(lfirst_oid(lc));
	foreach(lc, after->unguarded)
		catalog_forget_position(lfirst_oid(lc));
	foreach(lc, after->new_owner)
		catalog_follow_owner(lfirst_oid(lc));
}

/*
 * follow_up
 *		After a utility command ran, with the extension active: what
 *		check_command noted in *after (parsetree: the command; had_snapshot:
 *		it started under an active snapshot).  A command that commits on its
 *		own (DETACH PARTITION ... CONCURRENTLY) returns in a new transaction
 *		with none: the follow-up takes one.  A command that started with
 *		none (BEGIN, SET) gets none: a snapshot taken after BEGIN would fix
 *		the transaction's first one, and SET TRANSACTION ISOLATION LEVEL
 *		(pg_dump's second statement) would then fail.
 */
static void
follow_up(Node *parsetree, AfterCommand *after, bool had_snapshot)
{
	bool		snapshot = had_snapshot && IsTransactionState() && !ActiveSnapshotSet();

	if (snapshot)
		PushActiveSnapshot(GetTransactionSnapshot());
	follow_up_steps(parsetree, after);
	if (snapshot)
		PopActiveSnapshot();
}

/*
 * may_change_results
 *		Could this utility statement change what a DT's query gives without
 *		a write the capture triggers see (ALTER TABLE ... DISABLE TRIGGER,
 *		a policy, a function replaced, a partition attached, a grant)?
 *		Every statement may but those that change no object, CREATE TABLE
 *		of a table with no parent (empty, and read by nobody: creating a DT
 *		made every table of its database pay a NO_DATA refresh), and those
 *		whose writes fire the capture triggers (COPY, CALL, DO); and COMMIT
 *		PREPARED of a transaction whose writes the scheduler does not know
 *		(a restart forgot them); not one run by a refresh.
 */
static bool
may_change_results(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_TransactionStmt:
			/* makes a prepared transaction's writes visible (workers.c) */
			return ((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED &&
				!refresh_running() && !workers_prepared_known(((TransactionStmt *) parsetree)->gid);
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_ExplainStmt:
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
		case T_CopyStmt:
		case T_DeclareCursorStmt:
		case T_FetchStmt:
		case T_ClosePortalStmt:
		case T_NotifyStmt:
		case T_ListenStmt:
		case T_UnlistenStmt:
		case T_CheckPointStmt:
		case T_VacuumStmt:
		case T_LockStmt:
		case T_DiscardStmt:
		case T_CallStmt:
		case T_DoStmt:
		case T_ConstraintsSetStmt:
			return false;
		case T_CreateStmt:
			/* a new table (a DT's, say) is read by nobody; a child is */
			return (((CreateStmt *) parsetree)->inhRelations != NIL ||
					((CreateStmt *) parsetree)->partbound != NULL) && !refresh_running();
		default:
			return !refresh_running();
	}
}

/*
 * copy_target
 *		The table a COPY FROM writes, or InvalidOid: its rows are captured
 *		when it ends (capture_statement_starts, as read_guard.c does for the
 *		executor's statements).
 */
static Oid
copy_target(Node *parsetree)
{
	CopyStmt   *copy = (CopyStmt *) parsetree;

	if (!IsA(parsetree, CopyStmt) || !copy->is_from || copy->relation == NULL)
		return InvalidOid;
	return RangeVarGetRelid(copy->relation, NoLock, true);
}

/*
 * dt_process_utility
 *		The ProcessUtility hook: check before, follow up after.
 */
static void
dt_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				   ProcessUtilityContext context, ParamListInfo params,
				   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	AfterCommand after = {0};
	bool		had_snapshot = ActiveSnapshotSet();

	/*
	 * pg_upgrade's restore of the schema (the files come later): only the
	 * capture triggers are given back (dump.c).
	 */
	bool		upgrading = IsBinaryUpgrade && extension_active();
	bool		active = !IsBinaryUpgrade && extension_active();
	Oid			copied = active ? copy_target(parsetree) : InvalidOid;

	release_busy_database(parsetree);
	if (active)
		check_command(&pstmt, &readOnlyTree, &after);
	if (active && may_change_results(parsetree))
		workers_note_utility();
	if (active && IsA(parsetree, TransactionStmt) &&
		((TransactionStmt *) parsetree)->kind == TRANS_STMT_PREPARE)
		workers_note_prepare(((TransactionStmt *) parsetree)->gid);
	else if (upgrading && IsA(parsetree, CreateTrigStmt) &&
			 dump_is_guard_function(((CreateTrigStmt *) parsetree)->funcname))
		after.guarded = RangeVarGetRelid(((CreateTrigStmt *) parsetree)->relation, NoLock, false);

	if (OidIsValid(copied))
		capture_statement_starts(pstmt, list_make1_oid(copied));
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		dump_copy_done();
	}
	PG_END_TRY();
	if (OidIsValid(copied))
		capture_statement_finished(pstmt);

	/* created, or updated to the version the library schedules */
	if ((IsA(parsetree, CreateExtensionStmt) &&
		 strcmp(((CreateExtensionStmt *) parsetree)->extname, DT_EXTENSION_NAME) == 0) ||
		(IsA(parsetree, AlterExtensionStmt) &&
		 strcmp(((AlterExtensionStmt *) parsetree)->extname, DT_EXTENSION_NAME) == 0))
		workers_extension_created();
	/* with CASCADE: pg_restore --clean drops the extension, then dt itself */
	if (after.dropped_extension && ((DropStmt *) parsetree)->behavior == DROP_CASCADE)
		drop_empty_schema_dt();
	if (upgrading && OidIsValid(after.guarded))
		dump_upgrade_dynamic_table(after.guarded);
	/* a prepared transaction's writes are no longer in flight */
	if (active && IsA(parsetree, TransactionStmt) &&
		(((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED ||
		 ((TransactionStmt *) parsetree)->kind == TRANS_STMT_ROLLBACK_PREPARED))
		(void) workers_finish_prepared(((TransactionStmt *) parsetree)->gid,
									   ((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED);
	if (active && extension_active())
		follow_up(parsetree, &after, had_snapshot);
}

/* ddl_guard_install: register the ProcessUtility hook (from _PG_init). */
void
ddl_guard_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = dt_process_utility;
}
