-- pressmon schema, version 3: samples.cooling_max_pct, the highest state of
-- the CPU cooling devices (Linux /sys/class/thermal/cooling_device*), in
-- percent of each device's range (sampler/catalog.h says which devices
-- count).  Rows recorded before this version have it NULL, like any metric
-- a machine could not read; the `metrics` rows and the `sample_rates` view
-- are rewritten from the catalog by the next recorder that opens the file.
ALTER TABLE samples ADD COLUMN cooling_max_pct INTEGER;
