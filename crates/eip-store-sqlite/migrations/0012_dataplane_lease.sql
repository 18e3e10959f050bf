-- Which data-plane agent programs each region's gateway, until when (real
-- wall-clock ms). A row's presence hands the region's EIP and ENI
-- transitions to agents' acknowledgements.
CREATE TABLE dataplane_lease (
    region_id   TEXT PRIMARY KEY,
    holder      TEXT NOT NULL CHECK (length(holder) > 0),
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    CHECK (expires_at >= acquired_at)
);
