"""initial review schema: warehouse, runs, quarantine, leads, evidence, events

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 10:34:13.971595

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('lead_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('event', sa.Text(), nullable=False),
    sa.Column('from_status', sa.Text(), nullable=True),
    sa.Column('to_status', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_events_lead_id'), ['lead_id'], unique=False)

    op.create_table('lead_evidence',
    sa.Column('lead_id', sa.Text(), nullable=False),
    sa.Column('source_table', sa.Text(), nullable=False),
    sa.Column('record_id', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('lead_id', 'source_table', 'record_id')
    )
    with op.batch_alter_table('lead_evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_record', ['source_table', 'record_id'], unique=False)

    op.create_table('leads',
    sa.Column('lead_id', sa.Text(), nullable=False),
    sa.Column('detector', sa.Text(), nullable=False),
    sa.Column('detector_version', sa.Text(), nullable=True),
    sa.Column('case_id', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('township_code', sa.Text(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('priority', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('amount_at_risk', sa.Float(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='new', nullable=False),
    sa.Column('assignee', sa.Text(), nullable=True),
    sa.Column('first_seen_run', sa.Integer(), nullable=False),
    sa.Column('last_seen_run', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('lead_id')
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_detector'), ['detector'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_rank'), ['rank'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_township_code'), ['township_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_village_code'), ['village_code'], unique=False)

    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.Text(), nullable=False),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_run_id'), ['run_id'], unique=False)

    op.create_table('runs',
    sa.Column('run_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('parameters', sa.Text(), nullable=True),
    sa.Column('counts', sa.Text(), nullable=True),
    sa.Column('stages', sa.Text(), nullable=True),
    sa.Column('leads_new', sa.Integer(), nullable=True),
    sa.Column('leads_updated', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_table('wh_claims',
    sa.Column('row_key', sa.Text(), nullable=False),
    sa.Column('claim_id', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('program', sa.Text(), nullable=True),
    sa.Column('period', sa.Text(), nullable=True),
    sa.Column('claimant_name', sa.Text(), nullable=True),
    sa.Column('claimant_id', sa.Text(), nullable=True),
    sa.Column('bank_account', sa.Text(), nullable=True),
    sa.Column('amount', sa.Float(), nullable=True),
    sa.Column('quantity', sa.Float(), nullable=True),
    sa.Column('pay_date', sa.Date(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('loaded_run', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('row_key')
    )
    with op.batch_alter_table('wh_claims', schema=None) as batch_op:
        batch_op.create_index('ix_wh_claims_village', ['village_code'], unique=False)

    op.create_table('wh_contracts',
    sa.Column('row_key', sa.Text(), nullable=False),
    sa.Column('contract_no', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('vendor', sa.Text(), nullable=True),
    sa.Column('vendor_id', sa.Text(), nullable=True),
    sa.Column('vendor_account', sa.Text(), nullable=True),
    sa.Column('amount', sa.Float(), nullable=True),
    sa.Column('sign_date', sa.Date(), nullable=True),
    sa.Column('method', sa.Text(), nullable=True),
    sa.Column('decision_ref', sa.Text(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('loaded_run', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('row_key')
    )
    with op.batch_alter_table('wh_contracts', schema=None) as batch_op:
        batch_op.create_index('ix_wh_contracts_village', ['village_code'], unique=False)

    op.create_table('wh_ledger',
    sa.Column('row_key', sa.Text(), nullable=False),
    sa.Column('entry_id', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('village_name', sa.Text(), nullable=True),
    sa.Column('voucher_no', sa.Text(), nullable=True),
    sa.Column('line_no', sa.Text(), nullable=True),
    sa.Column('entry_date', sa.Date(), nullable=True),
    sa.Column('account_code', sa.Text(), nullable=True),
    sa.Column('account_name', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('debit', sa.Float(), nullable=True),
    sa.Column('credit', sa.Float(), nullable=True),
    sa.Column('counterparty', sa.Text(), nullable=True),
    sa.Column('counterparty_account', sa.Text(), nullable=True),
    sa.Column('counterparty_id', sa.Text(), nullable=True),
    sa.Column('contract_no', sa.Text(), nullable=True),
    sa.Column('invoice_no', sa.Text(), nullable=True),
    sa.Column('handler', sa.Text(), nullable=True),
    sa.Column('approver', sa.Text(), nullable=True),
    sa.Column('settlement', sa.Text(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('loaded_run', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('row_key')
    )
    with op.batch_alter_table('wh_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_wh_ledger_village', ['village_code'], unique=False)

    op.create_table('wh_officials',
    sa.Column('row_key', sa.Text(), nullable=False),
    sa.Column('person_id', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('related_to', sa.Text(), nullable=True),
    sa.Column('relation', sa.Text(), nullable=True),
    sa.Column('term_start', sa.Date(), nullable=True),
    sa.Column('term_end', sa.Date(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('loaded_run', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('row_key')
    )
    with op.batch_alter_table('wh_officials', schema=None) as batch_op:
        batch_op.create_index('ix_wh_officials_record', ['person_id'], unique=False)
        batch_op.create_index('ix_wh_officials_village', ['village_code'], unique=False)

    op.create_table('wh_residents',
    sa.Column('row_key', sa.Text(), nullable=False),
    sa.Column('person_id', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('household_id', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('status_date', sa.Date(), nullable=True),
    sa.Column('contracted_area', sa.Float(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('loaded_run', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('row_key')
    )
    with op.batch_alter_table('wh_residents', schema=None) as batch_op:
        batch_op.create_index('ix_wh_residents_village', ['village_code'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('wh_residents', schema=None) as batch_op:
        batch_op.drop_index('ix_wh_residents_village')

    op.drop_table('wh_residents')
    with op.batch_alter_table('wh_officials', schema=None) as batch_op:
        batch_op.drop_index('ix_wh_officials_village')
        batch_op.drop_index('ix_wh_officials_record')

    op.drop_table('wh_officials')
    with op.batch_alter_table('wh_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_wh_ledger_village')

    op.drop_table('wh_ledger')
    with op.batch_alter_table('wh_contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_wh_contracts_village')

    op.drop_table('wh_contracts')
    with op.batch_alter_table('wh_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_wh_claims_village')

    op.drop_table('wh_claims')
    op.drop_table('runs')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_run_id'))

    op.drop_table('quarantine')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leads_village_code'))
        batch_op.drop_index(batch_op.f('ix_leads_township_code'))
        batch_op.drop_index(batch_op.f('ix_leads_rank'))
        batch_op.drop_index(batch_op.f('ix_leads_detector'))
        batch_op.drop_index(batch_op.f('ix_leads_case_id'))

    op.drop_table('leads')
    with op.batch_alter_table('lead_evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_record')

    op.drop_table('lead_evidence')
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_events_lead_id'))

    op.drop_table('lead_events')
