-- CLB backend servers as the active data plane's health checks find them
-- (DescribeHealthStatus), in the store so every node answers alike, also when
-- the checks run in an agent on another host. The data plane that serves a
-- region replaces that region's rows; rows of listeners or backends that are
-- gone are harmless (DescribeHealthStatus looks up the live ones) and go with
-- the next replacement.
CREATE TABLE clb_backend_health (
    lb_id TEXT NOT NULL CHECK (length(lb_id) > 0),
    listener_port INTEGER NOT NULL CHECK (listener_port BETWEEN 1 AND 65535),
    server_id TEXT NOT NULL CHECK (length(server_id) > 0),
    region_id TEXT NOT NULL CHECK (length(region_id) > 0),
    health TEXT NOT NULL CHECK (health IN ('normal', 'abnormal')),
    PRIMARY KEY (lb_id, listener_port, server_id)
);
CREATE INDEX clb_backend_health_region ON clb_backend_health (region_id);
