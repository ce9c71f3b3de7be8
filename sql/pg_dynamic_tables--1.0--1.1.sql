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

-- The planner's estimate of read_changes' rows: the rows the refresh
-- counted in that window (src/api.c), not the default 1000, so that a
-- join of a few changed rows probes indexes instead of scanning tables.
CREATE FUNCTION dt_internal.read_changes_support(internal) RETURNS internal
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_read_changes_support';
REVOKE ALL ON FUNCTION dt_internal.read_changes_support(internal) FROM PUBLIC;
ALTER FUNCTION dt_internal.read_changes(regclass, pg_snapshot, xid8, integer, smallint[])
    SUPPORT dt_internal.read_changes_support;

-- Left to PUBLIC, on purpose: the fsum functions and aggregates (the
-- refreshes and the final_<oid> views of every owner use them; they check
-- their arguments), and query_definition (view dt.dynamic_tables calls it
-- with the privileges of whoever reads the view; it shows what the view
-- shows).

-- ---------------------------------------------------------------------
-- The variance of n values from their exact float sums in one call
-- (src/floatsum.c): var_* and stddev_* over float4 and float8 are
-- finalized with it, each sum converted to numeric once; 1.0 wrote the
-- arithmetic in SQL, which converted each sum wherever it named it.
-- ---------------------------------------------------------------------
CREATE FUNCTION dt_internal.fsum_variance(bigint, double precision[], double precision[], boolean)
    RETURNS double precision
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'dt_fsum_variance';

-- ---------------------------------------------------------------------
-- Target lags: at most 100 years (src/catalog.h,
-- DT_MAX_LAG_SECONDS); 1.0 accepted any, and a longer one overflowed the
-- scheduler's arithmetic and view dt.dynamic_tables.
-- ---------------------------------------------------------------------
UPDATE dt_internal.dynamic_table SET target_lag = interval '100 years'
 WHERE extract(epoch FROM target_lag) > 3155760000;

-- ---------------------------------------------------------------------
-- Why a table is behind its target lag while it is scheduled (one never
-- populated, initialize => 'on_schedule', from its creation): its
-- database's refreshes wait for a refresh worker (every one is busy, or no
-- background worker slot is free), its scheduled refreshes are skipped
-- (its last history row is a SKIPPED stretch, whose message says what was
-- locked), or its refreshes take longer than half its lag (from the
-- refresh's snapshot to its end: it is then refreshed back to back, and
-- the lag reaches two refreshes).  The first comes from the workers' shared memory; none
-- quotes data, so every reader sees it.
-- ---------------------------------------------------------------------
CREATE FUNCTION dt_internal.scheduling_delay() RETURNS text
    LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_scheduling_delay';

-- ---------------------------------------------------------------------
-- A time as of which the scheduler knows a dynamic table current, later
-- than the data timestamp of its last refresh when nothing it reads has
-- changed since (src/workers.c: a table with no change is not refreshed,
-- its data timestamp advances in the workers' shared memory), or NULL.
-- ---------------------------------------------------------------------
CREATE FUNCTION dt_internal.fresh_as_of(relid oid) RETURNS timestamptz
    LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_fresh_as_of';

-- The time until which a dynamic table's content before a refresh was
-- known current (nothing it reads had changed since its refresh: the
-- scheduler did not refresh it, dt_internal.fresh_as_of), or NULL: the
-- stretch between two refreshes counts as lag only from then.
ALTER TABLE dt_internal.refresh_log ADD COLUMN previous_fresh_as_of timestamptz;

-- ---------------------------------------------------------------------
-- Views: the messages of failed refreshes quote data from the tables a
-- dynamic table reads.  They are shown only to the roles entitled to that
-- data (those with the privileges of the table's owner, and superusers)
-- and to members of pg_read_all_stats, as pg_stat_statements shows query
-- texts; others see NULL.  The history of a dropped dynamic table is its
-- owner's no longer: the row of a dynamic table counts only if it was
-- created before the refresh (an OID can be reused).  Lag arithmetic counts
-- a target lag as the scheduler does, extract(epoch FROM target_lag).  The
-- data timestamp is the later of the last refresh's and the one the
-- scheduler knows (dt_internal.fresh_as_of): a table nothing changed is
-- current without a refresh, and its lag since its last refresh is 0 up to
-- that time; so is a stretch between two refreshes up to the time the
-- later one recorded (previous_fresh_as_of).
-- A dynamic table's name is its schema-qualified name, as text, as in
-- dt.refresh_history (1.0 had a regclass, qualified only when its schema
-- was not in search_path); relid is the regclass.
-- ---------------------------------------------------------------------
DROP VIEW dt.dynamic_tables;
CREATE VIEW dt.dynamic_tables AS
SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name,
       d.relid::regclass AS relid,
       n.nspname AS schema_name,
       c.relname AS table_name,
       dt_internal.query_definition(d.relid) AS query,
       d.query_text AS query_as_written,
       CASE WHEN d.target_lag IS NULL THEN 'DOWNSTREAM' ELSE d.target_lag::text END AS target_lag,
       d.refresh_mode,
       d.requested_mode AS requested_refresh_mode,
       d.refresh_mode_reason,
       d.scheduling_state,
       CASE WHEN d.scheduling_state <> 'ACTIVE'
            THEN CASE WHEN pg_catalog.pg_has_role(c.relowner, 'USAGE')
                           OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')
                      THEN d.suspend_reason END
            WHEN d.target_lag IS NOT NULL
                 AND pg_catalog.now() - coalesce(f.data_timestamp, d.created_at) > d.target_lag
            THEN 'behind its target lag: ' || coalesce(dt_internal.scheduling_delay(),
                 CASE WHEN last.state = 'SKIPPED'
                      THEN 'its scheduled refreshes are skipped: ' || last.state_message
                      WHEN last.refresh_end_time - LEAST(last.refresh_start_time, last.data_timestamp)
                           > d.target_lag / 2
                      THEN 'its refreshes take longer than half its target lag (the last: '
                           || round(extract(epoch FROM last.refresh_end_time
                                            - LEAST(last.refresh_start_time, last.data_timestamp)) * 1000)
                           || ' ms); it is refreshed back to back' END)
       END AS scheduling_state_reason,
       d.populated,
       f.data_timestamp,
       pg_catalog.now() - f.data_timestamp AS current_lag,
       lag.mean_lag,
       lag.maximum_lag,
       lag.time_within_target_lag_ratio,
       last.refresh_end_time AS last_refresh,
       last.refresh_action AS last_refresh_action,
       last.state AS last_refresh_state,
       d.consecutive_failures,
       ARRAY(SELECT i.input_relid::regclass
               FROM dt_internal.dynamic_table_input i
              WHERE i.relid = d.relid
              ORDER BY i.input_relid) AS inputs,
       d.created_at
  FROM dt_internal.dynamic_table d
  JOIN pg_catalog.pg_class c ON c.oid = d.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL (
      SELECT GREATEST(d.data_timestamp, dt_internal.fresh_as_of(d.relid)) AS data_timestamp) f
  LEFT JOIN LATERAL (
      SELECT r.refresh_start_time, r.refresh_end_time, r.data_timestamp, r.refresh_action, r.state,
             r.state_message
        FROM dt_internal.refresh_log r
       WHERE r.relid = d.relid
       ORDER BY r.refresh_id DESC
       LIMIT 1) last ON true
  LEFT JOIN LATERAL (
      SELECT pg_catalog.make_interval(secs =>
                 sum((extract(epoch FROM s.f - s.d) ^ 2 - extract(epoch FROM GREATEST(s.e, s.d) - s.d) ^ 2) / 2)
                 / nullif(sum(extract(epoch FROM s.f - s.e)), 0)) AS mean_lag,
             max(s.f - s.d) AS maximum_lag,
             (sum(greatest(0, extract(epoch FROM least(s.f, s.d + pg_catalog.make_interval(
                      secs => extract(epoch FROM d.target_lag)::float8)) - s.e)))
                 / nullif(sum(extract(epoch FROM s.f - s.e)), 0))::float8 AS time_within_target_lag_ratio
        FROM (SELECT CASE WHEN lead(r.refresh_end_time) OVER w IS NULL
                          THEN GREATEST(r.data_timestamp, f.data_timestamp)
                          ELSE GREATEST(r.data_timestamp, lead(r.previous_fresh_as_of) OVER w) END AS d,
                     r.refresh_end_time AS e,
                     coalesce(lead(r.refresh_end_time) OVER w, pg_catalog.now()) AS f
                FROM dt_internal.refresh_log r
               WHERE r.relid = d.relid AND r.state = 'SUCCEEDED'
                 AND r.data_timestamp IS NOT NULL
              WINDOW w AS (ORDER BY r.refresh_id)) s) lag ON true
 -- the internal dynamic tables of subqueries are part of their dynamic table
 WHERE n.nspname <> 'dt_internal';
COMMENT ON VIEW dt.dynamic_tables IS 'one row per dynamic table';
GRANT SELECT ON dt.dynamic_tables TO PUBLIC;

-- The rows of changes each refresh read: a refresh predicts the cost of
-- an incremental refresh from the durations and changes of the last ones
-- (src/refresh.c, adaptive refresh).
ALTER TABLE dt_internal.refresh_log ADD COLUMN changes bigint;

-- Of a refresh that rebuilt the per-group state of a delta-merge table
-- without internal tables, the milliseconds of the statement that built
-- the state from the inputs: about what the query costs, which adaptive
-- refresh expects a full refresh from the query to cost until one was
-- timed (its creation also plans, creates and indexes).
ALTER TABLE dt_internal.refresh_log ADD COLUMN state_query_ms double precision;

CREATE OR REPLACE VIEW dt.refresh_history AS
SELECT r.refresh_id,
       r.table_name AS name,
       r.relid,
       r.refresh_start_time,
       r.refresh_end_time,
       r.refresh_end_time - r.refresh_start_time AS duration,
       r.data_timestamp,
       r.refresh_action,
       r.refresh_trigger,
       r.state,
       r.rows_inserted,
       r.rows_deleted,
       r.rows_updated,
       CASE WHEN pg_catalog.pg_has_role(c.relowner, 'USAGE')
                 OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')
            THEN r.state_message END AS state_message
  FROM dt_internal.refresh_log r
  LEFT JOIN dt_internal.dynamic_table d ON d.relid = r.relid AND d.created_at <= r.refresh_start_time
  LEFT JOIN pg_catalog.pg_class c ON c.oid = d.relid;

-- ---------------------------------------------------------------------
-- The group key types of dynamic tables (dt_internal.key_<oid>) are their
-- owners' only: a column of that type made by another role would keep
-- the owner from dropping the dynamic table.  1.0 left them to PUBLIC.
-- ---------------------------------------------------------------------
DO $$
DECLARE
    t regtype;
BEGIN
    FOR t IN SELECT oid::regtype FROM pg_catalog.pg_type
              WHERE typnamespace = 'dt_internal'::regnamespace AND typname ~ '^key_[0-9]+$' LOOP
        EXECUTE format('REVOKE ALL ON TYPE %s FROM PUBLIC', t);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------
-- pg_dump, pg_restore and pg_upgrade (src/dump.c)
-- ---------------------------------------------------------------------

-- Each dynamic table's definition as PostgreSQL prints it, fully
-- qualified, to parse again when the stored tree cannot be read (another
-- major version) and to carry into pg_dump's output on its dt_guard
-- trigger; the major version and the cluster (its system identifier) that
-- wrote query_tree: the tree holds OIDs of functions, operators and
-- collations, which pg_upgrade does not keep, so a tree written by another
-- cluster is not read (NULL: by none known, so not read either); the
-- initialize choice.
ALTER TABLE dt_internal.dynamic_table
    ADD COLUMN definition text,
    ADD COLUMN tree_major integer NOT NULL DEFAULT 15,
    ADD COLUMN tree_system bigint,
    ADD COLUMN initialize text NOT NULL DEFAULT 'on_create';
ALTER TABLE dt_internal.dynamic_table ALTER COLUMN tree_major DROP DEFAULT;

-- ---------------------------------------------------------------------
-- The per-group state of a delta-merge table set aside by adaptive
-- refresh can be built apart from its refreshes (src/refresh.c,
-- refresh_build_state): the position it was built as of, which the change
-- logs keep the rows after (src/capture.c, capture_cleanup) and the next
-- refresh merges from.  Unlogged, as state_valid: a crash empties it with
-- the state.  Made before dt_internal.update_to_1_1 runs: it reads the
-- entries of the catalog, which read this table (src/catalog.c).
-- ---------------------------------------------------------------------
CREATE UNLOGGED TABLE dt_internal.state_position (
    relid             oid PRIMARY KEY REFERENCES dt_internal.dynamic_table ON DELETE CASCADE,
    position_snapshot pg_snapshot NOT NULL,
    position_xid      xid8 NOT NULL,
    position_cid      integer NOT NULL,
    built_by          xid8 NOT NULL   -- the transaction that built it
);

-- ---------------------------------------------------------------------
-- A dynamic table without a position in the change logs (restored, or
-- suspended: suspension releases it, so that a suspended table does not
-- keep the logs it reads from being emptied) is refreshed in full next;
-- no_position_reason says why, for the message of that refresh.
-- ---------------------------------------------------------------------
ALTER TABLE dt_internal.dynamic_table ADD COLUMN no_position_reason text;
UPDATE dt_internal.dynamic_table
   SET position_snapshot = NULL, position_xid = NULL, position_cid = NULL,
       no_position_reason = 'it was suspended, which released its position in the change logs'
 WHERE scheduling_state = 'SUSPENDED';

-- A restore creates dt_guard triggers as the restoring role, which needs
-- EXECUTE on the trigger function.  Fired, it does nothing but refuse
-- writes.  Creating a dt_guard trigger makes its table a dynamic table
-- (dump_restore_dynamic_table) under the checks dt.create_dynamic_table
-- makes, although CREATE TRIGGER itself takes only the TRIGGER privilege:
-- the creator must own the table (or be a superuser), a permanent plain
-- table that is neither a partition nor an inheritance parent or child;
-- unless the creator is a superuser, the table's owner must be able to
-- read everything the query reads; and no dynamic table may come to read
-- itself, directly or through others.
GRANT EXECUTE ON FUNCTION dt_internal.guard_dynamic_table() TO PUBLIC;

-- Dynamic tables and change logs made by 1.0: internal objects become
-- extension members, capture triggers internal triggers, and each
-- dt_guard trigger carries its table's definition.
CREATE FUNCTION dt_internal.update_to_1_1() RETURNS void
    LANGUAGE C SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_update_to_1_1';
SELECT dt_internal.update_to_1_1();
DROP FUNCTION dt_internal.update_to_1_1();

-- ---------------------------------------------------------------------
-- Redefining a dynamic table in place (src/api.c): or_replace makes
-- dt.create_dynamic_table a CREATE OR REPLACE, so that a migration script
-- can run again; dt.alter_dynamic_table changes the refresh mode too.
-- ---------------------------------------------------------------------
DROP FUNCTION dt.create_dynamic_table(text, text, text, text, text);
CREATE FUNCTION dt.create_dynamic_table(
    name text,
    query text,
    target_lag text DEFAULT '1 minute',
    refresh_mode text DEFAULT 'auto',
    initialize text DEFAULT 'on_create',
    or_replace boolean DEFAULT false)
RETURNS regclass
LANGUAGE C
AS 'MODULE_PATHNAME', 'dt_create_dynamic_table';
COMMENT ON FUNCTION dt.create_dynamic_table(text, text, text, text, text, boolean) IS
    'create a table kept equal to a query, refreshed within a target lag; or_replace redefines an existing one in place';

DROP FUNCTION dt.alter_dynamic_table(regclass, text);
CREATE FUNCTION dt.alter_dynamic_table(name regclass, target_lag text DEFAULT NULL,
                                       refresh_mode text DEFAULT NULL) RETURNS void
    LANGUAGE C SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_alter_dynamic_table';
COMMENT ON FUNCTION dt.alter_dynamic_table(regclass, text, text) IS
    'change the target lag or refresh mode of a dynamic table; NULL keeps a setting';

-- ---------------------------------------------------------------------
-- What a refresh would do, before running it (src/api.c, refresh.c):
-- how each part of the query is maintained, the action and why, the
-- changes pending per input and the statements.  Anyone may call it; the
-- action, counts and statements are shown only to the roles that see the
-- messages of failed refreshes (see the views above).
-- ---------------------------------------------------------------------
CREATE FUNCTION dt.explain_refresh(name regclass, OUT step integer, OUT kind text,
                                   OUT object text, OUT detail text)
RETURNS SETOF record
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_explain_refresh';
COMMENT ON FUNCTION dt.explain_refresh(regclass) IS
    'what a refresh of a dynamic table would do now, without doing it';

-- ---------------------------------------------------------------------
-- Adaptive refresh reads a table's last full refreshes at every refresh
-- (src/catalog.c, catalog_refresh_costs); a table refreshed
-- incrementally for its whole history has none since its creation, and
-- the read went through every history row of the table (half a
-- millisecond at the default 1,000 rows; more with a larger
-- refresh_history_size).
-- ---------------------------------------------------------------------
CREATE INDEX refresh_log_full_idx ON dt_internal.refresh_log (relid, refresh_id)
    WHERE refresh_action = 'FULL';

-- ---------------------------------------------------------------------
-- dt.build_state (its table, dt_internal.state_position, is made above,
-- before dt_internal.update_to_1_1, which reads the catalog's entries).
-- ---------------------------------------------------------------------
CREATE FUNCTION dt.build_state(name regclass) RETURNS boolean
    LANGUAGE C STRICT SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'dt_build_state';
COMMENT ON FUNCTION dt.build_state(regclass) IS
    'build the state of a dynamic table that refreshes in full for now (its per-group state, its internal tables), apart from its refreshes; the next refresh catches up from it';

-- ---------------------------------------------------------------------
-- The milliseconds of a build of a table's per-group state apart
-- (dt.build_state, or a refresh worker's), recorded on its full refresh
-- before the build: adaptive refresh reads it as what rebuilding the
-- state costs (src/catalog.c, catalog_refresh_costs), and as the end of
-- the full refreshes that waited for a build (WAITED_FOR_BUILD).
-- The index keeps those reads, at every refresh that decides by cost, to
-- the rows that have one.
-- ---------------------------------------------------------------------
ALTER TABLE dt_internal.refresh_log ADD COLUMN state_build_ms double precision;
CREATE INDEX refresh_log_build_idx ON dt_internal.refresh_log (relid, refresh_id)
    WHERE state_build_ms IS NOT NULL;
