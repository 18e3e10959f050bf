-- Per-EIP traffic totals as the data plane measured them (DescribeEipMonitorData),
-- at most one sample per EIP and minute (the last one taken in that minute), kept
-- for a day, so a restart does not lose the monitoring history.
CREATE TABLE eip_traffic (
    eip_id TEXT NOT NULL,
    minute_ms INTEGER NOT NULL,
    at_ms INTEGER NOT NULL CHECK (at_ms >= minute_ms AND at_ms < minute_ms + 60000),
    rx_bytes INTEGER NOT NULL CHECK (rx_bytes >= 0),
    tx_bytes INTEGER NOT NULL CHECK (tx_bytes >= 0),
    rx_packets INTEGER NOT NULL CHECK (rx_packets >= 0),
    tx_packets INTEGER NOT NULL CHECK (tx_packets >= 0),
    PRIMARY KEY (eip_id, minute_ms)
);
CREATE INDEX eip_traffic_at ON eip_traffic (at_ms);
