/*
 * pg_dynamic_tables 1.0 -> 1.1
 *
 * CREATE EXTENSION runs pg_dynamic_tables--1.0.sql and then this script, so
 * a new installation and an updated one end with the same objects.
 */
\echo Use "ALTER EXTENSION pg_dynamic_tables UPDATE TO '1.1'" to load this file. \quit

-- ---------------------------------------------------------------------
-- What ordinary roles may call (src/README.md, "Who may call what")
-- ---------------------------------------------------------------------

-- The scheduler's plan is for tests and the extension owner.
REVOKE ALL ON FUNCTION dt_internal.schedule_plan(timestamptz) FROM PUBLIC;

-- Refreshes read changes through this function as the dynamic table's
-- owner, whoever that is, so it stays executable by PUBLIC; it refuses
-- every caller but the statements of such a refresh (src/capture.c).
COMMENT ON FUNCTION dt_internal.read_changes(regclass, pg_snapshot, xid8, integer, smallint[]) IS
    'the change window of a table, for the refreshes of the dynamic tables that read it; nobody else may call it';

-- Left to PUBLIC, on purpose: the fsum functions and aggregates (the
-- refreshes and the final_<oid> views of every owner use them; they check
-- their arguments), and query_definition (view dt.dynamic_tables calls it
-- with the privileges of whoever reads the view; it shows what the view
-- shows).

-- ---------------------------------------------------------------------
-- Target lags: at most 100 years (src/pg_dynamic_tables.h,
-- DT_MAX_LAG_SECONDS); 1.0 accepted any, and a longer one overflowed the
-- scheduler's arithmetic and view dt.dynamic_tables.
-- ---------------------------------------------------------------------
UPDATE dt_internal.dynamic_table SET target_lag = interval '100 years'
 WHERE extract(epoch FROM target_lag) > 3155760000;
