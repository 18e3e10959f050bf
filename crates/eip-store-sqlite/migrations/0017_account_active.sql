-- Accounts can be disabled (`eipd account disable`): none of their
-- AccessKeys signs requests until the account is enabled again.
ALTER TABLE account ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
