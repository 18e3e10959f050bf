-- CLB TCP listeners (EIP:ListenerPort on the gateway) and backend servers.
CREATE TABLE clb_listener (
    lb_id TEXT NOT NULL REFERENCES load_balancer (id),
    port INTEGER NOT NULL,
    backend_port INTEGER NOT NULL,
    bandwidth INTEGER NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (lb_id, port)
);

CREATE TABLE clb_backend (
    lb_id TEXT NOT NULL REFERENCES load_balancer (id),
    server_id TEXT NOT NULL,
    weight INTEGER NOT NULL,
    PRIMARY KEY (lb_id, server_id)
);
