-- Per run: status, when, leads new/updated and the per-table counts (read = loaded + quarantined), newest first.
-- counts is JSON: [{"table": ..., "read": ..., "loaded": ..., "quarantined": ...}, ...]
select run_id,
       status,
       started_at,
       finished_at,
       leads_new,
       leads_updated,
       counts,
       message
from runs
order by run_id desc;
