-- Quota Center applications (quotas 2020-05-10 CreateQuotaApplication):
-- filed by an account for a quota of the catalogue, decided at once by the
-- review policy or later by an operator (`eipd quota approve|reject`). An
-- approved application's value is written to `quota` in the same
-- transaction. Applications go with their account.
CREATE TABLE quota_application (
    id TEXT PRIMARY KEY CHECK (length(id) > 0),
    account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    quota_name TEXT NOT NULL CHECK (length(quota_name) > 0),
    product_code TEXT NOT NULL CHECK (length(product_code) > 0),
    quota_action_code TEXT NOT NULL CHECK (length(quota_action_code) > 0),
    desire_value INTEGER NOT NULL CHECK (desire_value >= 0),
    approve_value INTEGER CHECK (approve_value >= 0),
    status TEXT NOT NULL CHECK (status IN ('Process', 'Agree', 'Disagree', 'Cancel')),
    reason TEXT NOT NULL,
    audit_reason TEXT NOT NULL,
    dimension TEXT NOT NULL,
    notice_type INTEGER NOT NULL CHECK (notice_type IN (0, 3)),
    applied_at INTEGER NOT NULL,
    decided_at INTEGER,
    -- An approved application carries its value; one in review is undecided.
    CHECK ((status = 'Agree') = (approve_value IS NOT NULL)),
    CHECK ((status = 'Process') = (decided_at IS NULL))
);
CREATE INDEX quota_application_account ON quota_application (account_id, applied_at);
