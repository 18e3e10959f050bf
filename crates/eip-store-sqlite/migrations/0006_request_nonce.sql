-- Signature nonces of acknowledged writes, kept until the signing window has
-- passed: a write replayed after a restart (the in-memory nonce cache is gone)
-- is still refused with SignatureNonceUsed. The key is "AccessKeyId\nnonce";
-- expires_at is real time in ms (signature checks ignore the clock offset).
CREATE TABLE request_nonce (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX request_nonce_expiry ON request_nonce (expires_at);
