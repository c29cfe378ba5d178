-- Quarantined rows per run, table and file, with an example row number: what to send back to the exporter.
-- reasons is JSON: [{"check": ..., "column": ..., "message": ...}, ...]; the full list is on each row.
select run_id,
       table_name,
       source_file,
       count(*)        as rows_quarantined,
       min(source_row) as first_row,
       min(reasons)    as example_reasons
from quarantine
group by run_id, table_name, source_file
order by run_id desc, rows_quarantined desc;
