-- pressmon schema, version 4: who passed a signal on.  pressmon forwards
-- the signals it receives to the command (cli/record.c); a kill made by
-- that forward is put on the account of whoever sent the signal to pressmon
-- (procs.killer_pid/killer_comm, events.sender_pid/sender_comm), and
-- `forwarded_by` holds the pid of the pressmon that passed it on.  NULL:
-- not forwarded, and in every row recorded before this version.
ALTER TABLE procs ADD COLUMN forwarded_by INTEGER;
ALTER TABLE events ADD COLUMN forwarded_by INTEGER;
