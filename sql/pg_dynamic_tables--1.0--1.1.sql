/*
 * pg_dynamic_tables 1.0 -> 1.1
 *
 * CREATE EXTENSION runs pg_dynamic_tables--1.0.sql and then this script, so
 * a new installation and an updated one end with the same objects.
 */
\echo Use "ALTER EXTENSION pg_dynamic_tables UPDATE TO '1.1'" to load this file. \quit

-- ---------------------------------------------------------------------
-- pg_dump, pg_restore and pg_upgrade (src/dump.c)
-- ---------------------------------------------------------------------

-- Each dynamic table's definition as PostgreSQL prints it, fully
-- qualified, to parse again when the stored tree cannot be read (another
-- major version) and to carry into pg_dump's output on its dt_guard
-- trigger; the major version that wrote query_tree; the initialize choice.
ALTER TABLE dt_internal.dynamic_table
    ADD COLUMN definition text,
    ADD COLUMN tree_major integer NOT NULL DEFAULT 15,
    ADD COLUMN initialize text NOT NULL DEFAULT 'on_create';
ALTER TABLE dt_internal.dynamic_table ALTER COLUMN tree_major DROP DEFAULT;

-- A restore creates dt_guard triggers as the restoring role, which needs
-- EXECUTE on the trigger function.  Called any other way it does nothing
-- but refuse writes, and a dt_guard trigger made by hand only makes a
-- table a dynamic table under the checks dt.create_dynamic_table makes.
GRANT EXECUTE ON FUNCTION dt_internal.guard_dynamic_table() TO PUBLIC;

-- Dynamic tables and change logs made by 1.0: internal objects become
-- extension members, capture triggers internal triggers, and each
-- dt_guard trigger carries its table's definition.
CREATE FUNCTION dt_internal.update_to_1_1() RETURNS void
    LANGUAGE C SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_update_to_1_1';
SELECT dt_internal.update_to_1_1();
DROP FUNCTION dt_internal.update_to_1_1();
