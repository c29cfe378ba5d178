-- Money at risk by detector and review outcome: what each detector's leads turned out to be.
-- Outcome is the lead's current review state; 属实 (confirmed) and 已移交 (referred) are verdicts of substance.
select detector,
       status,
       count(*)                                           as leads,
       round(cast(sum(amount_at_risk) as numeric), 2)     as amount_at_risk
from leads
group by detector, status
order by detector, status;
