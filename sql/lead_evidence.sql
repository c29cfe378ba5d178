-- Every ledger line behind one lead, in date order. Takes one bound parameter, lead_id.
with evidence as (
    select record_id from lead_evidence where lead_id = :lead_id and source_table = 'ledger'
)
select l.entry_date, l.voucher_no, l.line_no, l.account_code, l.summary, l.debit, l.credit,
       l.counterparty, l.counterparty_account, l.invoice_no, l.handler, l.approver
from wh_ledger l
join evidence e on e.record_id = l.entry_id
order by l.entry_date, l.voucher_no, l.line_no;
