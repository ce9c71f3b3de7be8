-- The ProcessUtility hook takes no snapshot after BEGIN (only the
-- follow-up of a command that committed on its own needs one): the
-- transaction's first query still takes it, and SET TRANSACTION
-- ISOLATION LEVEL may follow BEGIN, as pg_dump runs it.
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY, DEFERRABLE;
SHOW transaction_isolation;
COMMIT;
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
SHOW transaction_isolation;
COMMIT;
