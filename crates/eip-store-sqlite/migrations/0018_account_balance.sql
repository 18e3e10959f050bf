-- Each account's balance in millionths of a US dollar (BssOpenApi
-- QueryAccountBalance): `eipd account topup` adds to it and charges draw it
-- down; it may go below zero (an overdue account). Bounded so no sum of
-- top-ups and charges can overflow.
ALTER TABLE account ADD COLUMN balance INTEGER NOT NULL DEFAULT 0
    CHECK (balance BETWEEN -1000000000000000 AND 1000000000000000);
