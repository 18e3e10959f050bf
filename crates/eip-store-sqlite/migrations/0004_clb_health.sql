-- Health checks of CLB TCP listeners (Alibaba's CreateLoadBalancerTCPListener
-- parameters). Listeners made before this migration ran without health checks
-- and said so (`HealthCheck: off`), so they keep `off`; new listeners get
-- Alibaba's default (`on`) from the controller. A NULL port means the
-- listener's BackendServerPort.
ALTER TABLE clb_listener ADD COLUMN health_check TEXT NOT NULL DEFAULT 'off' CHECK (health_check IN ('on', 'off'));
ALTER TABLE clb_listener ADD COLUMN health_check_connect_port INTEGER
    CHECK (health_check_connect_port IS NULL OR health_check_connect_port BETWEEN 1 AND 65535);
ALTER TABLE clb_listener ADD COLUMN healthy_threshold INTEGER NOT NULL DEFAULT 3
    CHECK (healthy_threshold BETWEEN 2 AND 10);
ALTER TABLE clb_listener ADD COLUMN unhealthy_threshold INTEGER NOT NULL DEFAULT 3
    CHECK (unhealthy_threshold BETWEEN 2 AND 10);
ALTER TABLE clb_listener ADD COLUMN health_check_connect_timeout INTEGER NOT NULL DEFAULT 5
    CHECK (health_check_connect_timeout BETWEEN 1 AND 300);
ALTER TABLE clb_listener ADD COLUMN health_check_interval INTEGER NOT NULL DEFAULT 2
    CHECK (health_check_interval BETWEEN 1 AND 50);
