-- pressmon schema, version 5: the memory limits of the run's cgroup,
-- samples.cg_mem_max_kb (the lowest memory.max, or v1
-- memory.limit_in_bytes, of the cgroup and its visible ancestors) and
-- samples.cg_mem_high_kb (the lowest memory.high, cgroup v2 only), read once
-- a second, and samples.cg_mem_headroom_pct, the share of that limit not
-- charged to the cgroup, every tick (sampler/catalog.h).  NULL where no
-- limit is set, and in rows
-- recorded before this version; the `metrics` rows and the `sample_rates`
-- view are rewritten from the catalog by the next recorder that opens the
-- file.
ALTER TABLE samples ADD COLUMN cg_mem_max_kb INTEGER;
ALTER TABLE samples ADD COLUMN cg_mem_high_kb INTEGER;
ALTER TABLE samples ADD COLUMN cg_mem_headroom_pct INTEGER;
