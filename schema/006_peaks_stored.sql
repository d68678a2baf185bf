-- pressmon schema, version 6.
--
-- runs.samples_stored: the system samples committed to `samples` for the
-- run, i.e. `SELECT count(*) FROM samples WHERE run_id = ...`.
-- runs.samples is every system sample taken; the two differ when the
-- database could not take them (a full disk, a lock held too long) or the
-- sampler's queue was full: samples - samples_stored were lost.
-- runs.dropped counts lost records of every kind (samples, process samples,
-- events, exits).  NULL in runs recorded before this version, whose
-- `samples` counted what the writer received, stored or not.
ALTER TABLE runs ADD COLUMN samples_stored INTEGER;
-- procs.maxrss_kb: the kernel's high-water mark of resident memory, from
-- the rusage of wait4(2), for the processes pressmon reaped itself (the
-- command, and the orphans it reaps as their subreaper).  It is the
-- largest of the process's own peak and the peaks of every descendant it
-- waited for (Linux keeps it in signal->maxrss/cmaxrss), so for a process
-- that had children it is the largest process of its subtree, not
-- necessarily its own.  Samples of proc_samples.rss_kb, every 40 ms, miss
-- a spike between two of them.  NULL where pressmon did not reap it.
ALTER TABLE procs ADD COLUMN maxrss_kb INTEGER;
