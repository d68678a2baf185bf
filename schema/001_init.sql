-- pressmon schema, version 1.
--
-- This file is compiled into the binary (see the Makefile rule for
-- schema_sql.c) and applied by schema/store.c when a database is older
-- than it.  Never edit a released migration: add NNN_next.sql instead.
--
-- Conventions: every per-run table refers to its run by the integer
-- `run_id` (runs.id), not by the text uid.  Times inside a run (`t_ns`,
-- `start_ns`, `end_ns`) are monotonic nanoseconds since the run started;
-- `started_at`/`ended_at` are wall-clock unix nanoseconds.  The columns of
-- `samples` and `proc_samples` are the metric catalog (table `metrics`,
-- sampler/catalog.h): units, scales and kinds are there.  Counter columns
-- hold the delta since the previous non-NULL value of that column in the
-- run (slow sources such as /proc/vmstat are not read on every tick: NULL
-- there); the view `sample_rates` turns them into per-second rates.

CREATE TABLE hosts (
    id          INTEGER PRIMARY KEY,
    hostname    TEXT NOT NULL,
    os          TEXT NOT NULL,           -- 'linux' | 'darwin'
    os_version  TEXT,
    kernel      TEXT,
    arch        TEXT,
    cpu_count   INTEGER,
    mem_total   INTEGER,                 -- bytes
    page_size   INTEGER,                 -- bytes
    UNIQUE (hostname, os, os_version, kernel, arch, cpu_count, mem_total, page_size)
);

CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    uid              TEXT NOT NULL UNIQUE,   -- public run id: time-sortable base32
    host_id          INTEGER NOT NULL REFERENCES hosts(id),
    label            TEXT,
    command          TEXT NOT NULL,          -- JSON array of argv; [] = system only
    cwd              TEXT,
    started_at       INTEGER NOT NULL,       -- unix ns
    ended_at         INTEGER,                -- unix ns
    duration_ns      INTEGER,
    state            TEXT NOT NULL DEFAULT 'recording'
                     CHECK (state IN ('recording', 'done', 'aborted')),
    exit_code        INTEGER,                -- the child's exit code (NULL if signalled)
    signal           INTEGER,                -- the child's terminating signal
    core_dumped      INTEGER,
    outcome          TEXT CHECK (outcome IN ('pass', 'fail')),
    interval_ns      INTEGER NOT NULL,       -- system sampling interval
    proc_interval_ns INTEGER NOT NULL,       -- process sampling interval
    samples          INTEGER NOT NULL DEFAULT 0,
    proc_samples     INTEGER NOT NULL DEFAULT 0,
    missed_ticks     INTEGER NOT NULL DEFAULT 0,
    late_p50_ns      INTEGER,
    late_p99_ns      INTEGER,
    late_max_ns      INTEGER,
    dropped          INTEGER NOT NULL DEFAULT 0, -- records lost to a full queue
    self_cpu_ns      INTEGER,                -- pressmon's own CPU time for the run
    recorder_pid     INTEGER,
    boot_id          TEXT,
    version          TEXT NOT NULL,          -- pressmon version that recorded it
    sources          TEXT,                   -- what the system sampler read
    tree_mechanism   TEXT,                   -- how the process tree was followed
    attribution      TEXT,                   -- kill attribution: 'on', or why it is off
    notes            TEXT                    -- problems met while recording
);
CREATE INDEX runs_started ON runs (started_at);
CREATE INDEX runs_label ON runs (label, started_at);

CREATE TABLE run_tags (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- The metric catalog, filled from sampler/catalog.h on every open.
CREATE TABLE metrics (
    name      TEXT NOT NULL,           -- column in samples / proc_samples
    scope     TEXT NOT NULL CHECK (scope IN ('system', 'process')),
    position  INTEGER NOT NULL,        -- column order within the scope
    unit      TEXT NOT NULL,           -- unit after scaling
    scale     INTEGER NOT NULL,        -- stored / scale = value (x1024 more for *_kb)
    kind      TEXT NOT NULL CHECK (kind IN ('gauge', 'counter')),
    prom_name TEXT NOT NULL,           -- name when exported, without 'pressmon_'
    pressure  INTEGER NOT NULL DEFAULT 0,       -- pressure-like: diff counts time above thresholds
    lower_is_worse INTEGER NOT NULL DEFAULT 0,
    help      TEXT NOT NULL,
    PRIMARY KEY (scope, name)
) WITHOUT ROWID;

-- One row per system sample.  WITHOUT ROWID keyed on (run_id, t_ns) keeps a
-- row near 100 bytes (docs/BENCHMARKS.md).
CREATE TABLE samples (
    run_id             INTEGER NOT NULL,
    t_ns               INTEGER NOT NULL,
    late_us            INTEGER,          -- how late after its deadline, microseconds
    mem_available_kb   INTEGER,
    mem_free_kb        INTEGER,
    mem_cached_kb      INTEGER,
    mem_anon_kb        INTEGER,
    mem_dirty_kb       INTEGER,
    mem_wired_kb       INTEGER,
    mem_compressed_kb  INTEGER,
    swap_used_kb       INTEGER,
    mem_level_pct      INTEGER,
    mem_pressure_level INTEGER,
    vm_pgfault         INTEGER,
    vm_pgmajfault      INTEGER,
    vm_swapin          INTEGER,
    vm_swapout         INTEGER,
    vm_pgscan          INTEGER,
    vm_refault         INTEGER,
    vm_allocstall      INTEGER,
    vm_oom_kill        INTEGER,
    io_read_kb         INTEGER,
    io_write_kb        INTEGER,
    cpu_user_us        INTEGER,
    cpu_system_us      INTEGER,
    cpu_idle_us        INTEGER,
    cpu_iowait_us      INTEGER,
    cpu_steal_us       INTEGER,
    cpu_busiest_pm     INTEGER,
    ctxt               INTEGER,
    forks              INTEGER,
    procs_running      INTEGER,
    procs_blocked      INTEGER,
    load1_milli        INTEGER,
    psi_cpu_some_us    INTEGER,
    psi_cpu_full_us    INTEGER,
    psi_mem_some_us    INTEGER,
    psi_mem_full_us    INTEGER,
    psi_io_some_us     INTEGER,
    psi_io_full_us     INTEGER,
    cg_mem_some_us     INTEGER,
    cg_mem_full_us     INTEGER,
    cg_cpu_some_us     INTEGER,
    cg_io_some_us      INTEGER,
    cg_mem_current_kb  INTEGER,
    thermal_level      INTEGER,
    temp_max_mc        INTEGER,
    throttle           INTEGER,
    PRIMARY KEY (run_id, t_ns)
) WITHOUT ROWID;

-- One row per process of the recorded tree (a pid that execs keeps its row;
-- comm/argv are the latest).
CREATE TABLE procs (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    pid         INTEGER NOT NULL,
    ppid        INTEGER,
    start_ns    INTEGER,                 -- since run start; NULL if it predates the run
    end_ns      INTEGER,                 -- NULL while alive / if never seen ending
    comm        TEXT,
    argv        TEXT,                    -- JSON array, capped at 256 bytes
    execs       INTEGER NOT NULL DEFAULT 0,
    exit_code   INTEGER,
    signal      INTEGER,
    core_dumped INTEGER,
    status_src  TEXT,                    -- how the exit status is known: wait, proc_connector, ...
    killer_pid  INTEGER,
    killer_comm TEXT,
    kill_cause  TEXT
);
CREATE INDEX procs_run_pid ON procs (run_id, pid);

-- Per-process samples, only when something changed since the last one.
CREATE TABLE proc_samples (
    run_id        INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    t_ns          INTEGER NOT NULL,
    state         TEXT,                  -- R S D Z T ...
    rss_kb        INTEGER,
    cpu_user_us   INTEGER,
    cpu_system_us INTEGER,
    threads       INTEGER,
    minflt        INTEGER,
    majflt        INTEGER,
    read_kb       INTEGER,
    write_kb      INTEGER,
    PRIMARY KEY (run_id, pid, t_ns)
) WITHOUT ROWID;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    t_ns        INTEGER NOT NULL,
    kind        TEXT NOT NULL,           -- exec exit signal oom_kill memory_kill codesign_kill
                                         -- thermal pressure sampler_gap notice fork
    pid         INTEGER,
    signal      INTEGER,
    sender_pid  INTEGER,
    sender_comm TEXT,
    detail      TEXT
);
CREATE INDEX events_run_t ON events (run_id, t_ns);

-- Views for people.
CREATE VIEW run_summary AS
SELECT r.uid,
       r.label,
       datetime(r.started_at / 1000000000, 'unixepoch') AS started,
       round(r.duration_ns / 1e9, 3)                    AS duration_s,
       r.state,
       r.exit_code,
       r.signal,
       r.outcome,
       r.samples,
       r.missed_ticks,
       round(r.self_cpu_ns * 100.0 / NULLIF(r.duration_ns, 0), 2) AS self_cpu_pct,
       (SELECT count(*) FROM procs p WHERE p.run_id = r.id) AS processes,
       (SELECT count(*) FROM procs p WHERE p.run_id = r.id AND p.signal IS NOT NULL) AS killed,
       h.hostname,
       r.command
FROM runs r JOIN hosts h ON h.id = r.host_id;
