-- Open leads and money at risk per township and detector, best-ranked first: the morning queue at a glance.
-- "Open" = current (ranked in the latest run) and not yet concluded by a reviewer.
with current_leads as (
    select township_code, detector, amount_at_risk, rank, status
    from leads
    where rank is not null
),
open_leads as (
    select * from current_leads where status in ('new', 'in_review')
)
select township_code,
       detector,
       count(*)                     as open_leads,
       round(cast(sum(amount_at_risk) as numeric), 2) as amount_at_risk,
       min(rank)                    as best_rank
from open_leads
group by township_code, detector
order by best_rank;
