/*-------------------------------------------------------------------------
 *
 * common.h
 *		Layer 0 of pg_dynamic_tables: what every other layer uses.
 *
 *	names.c			the names of internal objects and triggers, qualified
 *					relation names
 *	settings.c		the settings a DT pins (TimeZone, DateStyle, ...)
 *	spi_util.c		running prepared statements, reading SPI's rows
 *	floatsum.c		exact float sums (SQL-callable only: no declarations)
 *
 * src/README.md draws the layers; a file includes the header of its own
 * layer, which includes the one below.  Names: C functions exported from a
 * file are named <file>_<action> (names_qualified, catalog_read_entry);
 * SQL-callable functions are named dt_<sql name>.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DT_COMMON_H
#define DT_COMMON_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#define DT_SCHEMA			"dt"
#define DT_INTERNAL_SCHEMA	"dt_internal"
#define DT_EXTENSION_NAME	"pg_dynamic_tables"
#define DT_VERSION			"1.1"	/* of the SQL objects this library expects */

/* PostgreSQL 16 replaced the per-class ownership checks. */
#if PG_VERSION_NUM >= 160000
#define pg_class_ownercheck(relid, role) object_ownercheck(RelationRelationId, (relid), (role))
#endif

/* PostgreSQL 16 gave name parsing a soft-error context. */
#if PG_VERSION_NUM >= 160000
#define dt_name_list(string) stringToQualifiedNameList((string), NULL)
#else
#define dt_name_list(string) stringToQualifiedNameList(string)
#endif

/* ---------------------------------------------------------------------
 * names.c
 * ---------------------------------------------------------------------
 */

/* The kinds of internal objects in dt_internal, named <kind>_<relid>. */
typedef enum DtObjectKind
{
	DT_OBJECT_CHANGES,			/* changes_<input>: a change log */
	DT_OBJECT_KEY,				/* key_<dt>: the group key's type */
	DT_OBJECT_STATE,			/* state_<dt>: per-group state */
	DT_OBJECT_AUX,				/* aux_<dt>_<n>: value counts */
	DT_OBJECT_FINAL,			/* final_<dt>: finalized state */
	DT_OBJECT_SUB				/* sub_<dt>_<n>: an internal DT of a subquery
								 * of <dt> */
} DtObjectKind;

/* What change logs are named after, for the SQL that builds their names. */
#define DT_CHANGES_NAME		"changes"

/*
 * The rows of a DT's query in a full refresh run by parallel workers, as the
 * statement inserting them reads them (an ephemeral named relation).
 */
#define DT_QUERY_ROWS		"dt_query_rows"

/* The trigger that guards a DT, and the prefix of the capture triggers. */
#define DT_GUARD_TRIGGER	"dt_guard"
#define DT_CAPTURE_TRIGGER_PREFIX "dt_capture_"

extern char *names_internal(DtObjectKind kind, Oid relid, int no);
extern char *names_internal_qualified(DtObjectKind kind, Oid relid, int no);
extern Oid	names_internal_namespace(void);
extern Oid	names_internal_relid(DtObjectKind kind, Oid relid, int no);
extern Oid	names_internal_typid(Oid relid);
extern Oid	names_internal_parent(Oid relid);
extern char *names_qualified(Oid relid);
extern char *names_capture_trigger(Oid logoid, const char *event);
extern bool names_is_capture_trigger(const char *name);
extern bool names_is_extension_trigger(const char *name);
extern List *names_parse_new(const char *qualified);

/* ---------------------------------------------------------------------
 * settings.c
 * ---------------------------------------------------------------------
 */
extern List *settings_current(void);
extern int	settings_pin(List *settings);
extern void settings_check(List *settings);
extern Oid	settings_ts_config(List *settings);
extern List *settings_name_ts_config(List *settings, Oid cfg);
extern Oid	settings_find_ts_config(List *settings, List *candidates, Oid classid, Oid objid);
extern char *settings_print_query(Query *query);
extern char *settings_print_expression(Node *expr, List *context, bool prefix);

/* ---------------------------------------------------------------------
 * spi_util.c
 * ---------------------------------------------------------------------
 */
typedef void (*SpiRowFunction) (HeapTuple tuple, TupleDesc desc, void *arg);

extern void spi_util_foreach_row(MemoryContext caller, SpiRowFunction fn, void *arg);
extern List *spi_util_oids(MemoryContext caller);
extern Datum spi_util_datum(uint64 row, int col, bool *isnull);
extern int64 spi_util_int64(uint64 row, int col);
extern bool spi_util_bool(uint64 row, int col);
extern Oid	spi_util_oid(uint64 row, int col);
extern uint64 spi_util_run(SPIPlanPtr plan, Datum *values, const char *nulls,
						   Snapshot snapshot);
extern bool spi_util_is_parallel(SPIPlanPtr plan, Cost * cost);
extern Tuplestorestate *spi_util_run_to_store(SPIPlanPtr plan, Snapshot snapshot, TupleDesc *desc);
extern ErrorData *spi_util_in_subtransaction(void (*work) (void *arg), void *arg);

#endif							/* DT_COMMON_H */
