/*-------------------------------------------------------------------------
 *
 * lifecycle.h
 *		Layer 5 of pg_dynamic_tables: making dynamic tables, and restoring
 *		them.
 *
 *	lifecycle.c		a table becomes a DT; what is made for it goes with it
 *	dump.c			DTs through pg_dump/pg_restore, pg_upgrade and renames
 *					(calls lifecycle.c)
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_LIFECYCLE_H
#define DT_LIFECYCLE_H

#include "catalog/objectaddress.h"

#include "refresh.h"

/* ---------------------------------------------------------------------
 * lifecycle.c
 * ---------------------------------------------------------------------
 */
extern void lifecycle_refuse_inputs(Query *query, bool restored);
extern void lifecycle_check_privileges(Query *query);
extern DtAnalysis *lifecycle_analyze(Oid relid, DtEntry *entry, Query *query);
extern void lifecycle_choose_strategy(DtEntry *entry, DtAnalysis *an, const char *name);
extern void lifecycle_record_dependencies(Oid relid, List *settings, Query *query,
										  DtAnalysis *an);
extern Oid	lifecycle_key_index_owner(Oid index);
extern void lifecycle_make_dynamic(Oid relid, DtEntry *entry, Query *query, DtAnalysis *an);
extern void lifecycle_redefine(Oid relid, DtEntry *entry, Query *query);
extern List *lifecycle_forget_dropped(void);
extern void lifecycle_unmake_dynamic(Oid relid);
extern void lifecycle_release_members_of(List *roles);
extern List *lifecycle_release_members(List *objects, bool everything);
extern void lifecycle_adopt_members(List *released);

/* ---------------------------------------------------------------------
 * dump.c
 * ---------------------------------------------------------------------
 */
extern bool dump_is_guard_function(List *funcname);
extern void dump_restore_dynamic_table(Oid relid);
extern void dump_upgrade_dynamic_table(Oid relid);
extern Node *dump_discard_copy(CopyStmt *stmt, Oid relid);
extern bool dump_discarding_copy(Oid relid);
extern void dump_copy_done(void);
extern void dump_renew_trees(void);
extern void dump_refresh_definitions(ObjectAddress renamed);
extern void dump_convert_from_1_0(void);

#endif							/* DT_LIFECYCLE_H */
