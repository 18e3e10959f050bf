-- openeip schema, version 1. Kept to the SQL that SQLite and PostgreSQL
-- share: text ids, BIGINT epoch milliseconds, CHECK constraints, partial
-- unique indexes. Invariants that the controller enforces are repeated here
-- as constraints, so a bug cannot store a state the rules forbid.

CREATE TABLE account (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE access_key (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    secret TEXT NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL
);
CREATE INDEX access_key_account ON access_key (account_id);

CREATE TABLE setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE address_pool (
    region_id TEXT NOT NULL,
    cidr TEXT NOT NULL,
    cursor BIGINT NOT NULL CHECK (cursor >= 0),
    position BIGINT NOT NULL,
    PRIMARY KEY (region_id, cidr)
);

-- One row per public address ever handed out: who holds it now, and who
-- held it last (GEN-03 retrieval).
CREATE TABLE public_address (
    ip TEXT PRIMARY KEY,
    region_id TEXT NOT NULL,
    holder_kind TEXT CHECK (holder_kind IN ('eip', 'instance', 'lb')),
    holder_id TEXT,
    last_account_id TEXT,
    released_at BIGINT,
    CHECK ((holder_kind IS NULL) = (holder_id IS NULL))
);
CREATE UNIQUE INDEX public_address_holder ON public_address (holder_id) WHERE holder_id IS NOT NULL;
CREATE INDEX public_address_free ON public_address (region_id, released_at) WHERE holder_id IS NULL;

CREATE TABLE vpc (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    cidr TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    is_default INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    vrouter_id TEXT NOT NULL,
    route_table_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX vpc_account_region ON vpc (account_id, region_id);

CREATE TABLE vswitch (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL REFERENCES vpc (id),
    zone_id TEXT NOT NULL,
    cidr TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX vswitch_account_region ON vswitch (account_id, region_id);
CREATE INDEX vswitch_vpc ON vswitch (vpc_id);

CREATE TABLE security_group (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    vpc_id TEXT REFERENCES vpc (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX security_group_account_region ON security_group (account_id, region_id);
CREATE INDEX security_group_vpc ON security_group (vpc_id);

CREATE TABLE instance (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    network_type TEXT NOT NULL CHECK (network_type IN ('vpc', 'classic')),
    vpc_id TEXT REFERENCES vpc (id),
    vswitch_id TEXT REFERENCES vswitch (id),
    security_group_id TEXT REFERENCES security_group (id),
    instance_type TEXT NOT NULL,
    image_id TEXT NOT NULL,
    name TEXT NOT NULL,
    hostname TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Pending', 'Starting', 'Running', 'Stopping', 'Stopped')),
    want_running INTEGER NOT NULL CHECK (want_running IN (0, 1)),
    internet_charge_type TEXT NOT NULL CHECK (internet_charge_type IN ('PayByBandwidth', 'PayByTraffic')),
    internet_max_bandwidth_out BIGINT NOT NULL CHECK (internet_max_bandwidth_out >= 0),
    public_ip TEXT UNIQUE,
    charge_type TEXT NOT NULL CHECK (charge_type IN ('PostPaid', 'PrePaid')),
    cpu BIGINT NOT NULL,
    memory_mb BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    -- ECS-01: a VPC instance always has its VPC and vSwitch.
    CHECK (network_type = 'classic' OR (vpc_id IS NOT NULL AND vswitch_id IS NOT NULL))
);
CREATE INDEX instance_account_region ON instance (account_id, region_id, created_at);
CREATE INDEX instance_vswitch ON instance (vswitch_id);
CREATE INDEX instance_sg ON instance (security_group_id);

CREATE TABLE eni (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL REFERENCES vpc (id),
    vswitch_id TEXT NOT NULL REFERENCES vswitch (id),
    instance_id TEXT REFERENCES instance (id),
    kind TEXT NOT NULL CHECK (kind IN ('Primary', 'Secondary')),
    mac TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('Available', 'Attaching', 'InUse', 'Detaching')),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    security_group_id TEXT,
    created_at BIGINT NOT NULL,
    -- A primary ENI is always on its instance; an attached ENI is InUse or in transition.
    CHECK (kind = 'Secondary' OR instance_id IS NOT NULL),
    CHECK ((instance_id IS NULL) = (status = 'Available'))
);
CREATE INDEX eni_instance ON eni (instance_id);
CREATE INDEX eni_vswitch ON eni (vswitch_id);
CREATE INDEX eni_account_region ON eni (account_id, region_id, created_at);
-- An instance has exactly one primary ENI.
CREATE UNIQUE INDEX eni_one_primary ON eni (instance_id) WHERE kind = 'Primary';

-- Private addresses taken in a vSwitch. The holder is an ENI (its primary
-- and secondary IPs), a NAT gateway's own interface, a NAT-mode EIP of a
-- NAT gateway (NAT-03: the EIP id), a HaVip, or a load balancer.
CREATE TABLE private_ip (
    vswitch_id TEXT NOT NULL REFERENCES vswitch (id),
    ip TEXT NOT NULL,
    holder_id TEXT NOT NULL,
    is_primary INTEGER NOT NULL CHECK (is_primary IN (0, 1)),
    PRIMARY KEY (vswitch_id, ip)
);
CREATE INDEX private_ip_holder ON private_ip (holder_id);

CREATE TABLE eip (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    -- GEN-02: one EIP per address, and the address never changes.
    ip TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('Available', 'Associating', 'InUse', 'Unassociating', 'Releasing')),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    bandwidth BIGINT NOT NULL CHECK (bandwidth >= 1),
    charge_type TEXT NOT NULL CHECK (charge_type IN ('PostPaid', 'PrePaid')),
    internet_charge_type TEXT NOT NULL CHECK (internet_charge_type IN ('PayByBandwidth', 'PayByTraffic')),
    isp TEXT NOT NULL,
    netmode TEXT NOT NULL,
    resource_group_id TEXT NOT NULL,
    allocated_at BIGINT NOT NULL,
    expired_at BIGINT,
    deletion_protection INTEGER NOT NULL CHECK (deletion_protection IN (0, 1)),
    instance_type TEXT CHECK (instance_type IN ('EcsInstance', 'SlbInstance', 'Nat', 'HaVip', 'NetworkInterface', 'IpAddress', 'Alb', 'Nlb')),
    instance_id TEXT,
    -- The private address the EIP maps to (data plane), and the vSwitch it lives in.
    private_ip TEXT,
    private_vswitch_id TEXT,
    mode TEXT CHECK (mode IN ('NAT', 'MULTI_BINDED', 'BINDED')),
    instance_region_id TEXT,
    version BIGINT NOT NULL,
    CHECK ((instance_type IS NULL) = (instance_id IS NULL)),
    CHECK ((private_ip IS NULL) = (private_vswitch_id IS NULL)),
    CHECK (private_ip IS NULL OR instance_id IS NOT NULL),
    -- GEN-04: a target is recorded exactly while associating, in use or unassociating.
    CHECK ((status IN ('Associating', 'InUse', 'Unassociating')) = (instance_id IS NOT NULL))
);
CREATE INDEX eip_account_region ON eip (account_id, region_id, allocated_at);
CREATE INDEX eip_target ON eip (instance_id) WHERE instance_id IS NOT NULL;
-- ECS-02: at most one EIP directly on an ECS instance.
CREATE UNIQUE INDEX eip_one_per_ecs ON eip (instance_id) WHERE instance_type = 'EcsInstance';
-- LB-03, HA-03: at most one EIP on a CLB or a HaVip.
CREATE UNIQUE INDEX eip_one_per_clb_havip ON eip (instance_id) WHERE instance_type IN ('SlbInstance', 'HaVip');
-- ENI-03: one private IP maps to at most one NAT-mode EIP (the instance-level
-- EIP occupies the primary ENI's primary IP, so it conflicts the same way).
CREATE UNIQUE INDEX eip_one_per_private_ip ON eip (private_vswitch_id, private_ip)
    WHERE mode = 'NAT' AND private_ip IS NOT NULL;
-- VIS-01: a cut-through (BINDED) ENI has exactly one EIP.
CREATE UNIQUE INDEX eip_one_binded_per_eni ON eip (instance_id) WHERE mode = 'BINDED';

CREATE TABLE eip_tag (
    eip_id TEXT NOT NULL REFERENCES eip (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (eip_id, key)
);
CREATE INDEX eip_tag_kv ON eip_tag (key, value);

CREATE TABLE nat_gateway (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL REFERENCES vpc (id),
    vswitch_id TEXT NOT NULL REFERENCES vswitch (id),
    zone_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Creating', 'Available')),
    network_type TEXT NOT NULL CHECK (network_type IN ('internet', 'intranet')),
    eip_bind_mode TEXT NOT NULL CHECK (eip_bind_mode IN ('MULTI_BINDED', 'NAT')),
    snat_table_id TEXT NOT NULL UNIQUE,
    forward_table_id TEXT NOT NULL UNIQUE,
    full_nat_table_id TEXT NOT NULL UNIQUE,
    -- The gateway's own interface and its address in the vSwitch.
    eni_id TEXT NOT NULL UNIQUE,
    private_ip TEXT NOT NULL,
    -- NAT-03 depends on it; `eipd nat set-creation-time` changes it (imports).
    created_at BIGINT NOT NULL
);
CREATE INDEX nat_gateway_account_region ON nat_gateway (account_id, region_id, created_at);

CREATE TABLE snat_entry (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    nat_gateway_id TEXT NOT NULL REFERENCES nat_gateway (id),
    snat_table_id TEXT NOT NULL,
    -- Comma-separated EIP addresses of the gateway.
    snat_ips TEXT NOT NULL CHECK (snat_ips <> ''),
    source_vswitch_id TEXT,
    source_cidr TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX snat_entry_gateway ON snat_entry (nat_gateway_id, created_at);

CREATE TABLE forward_entry (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    nat_gateway_id TEXT NOT NULL REFERENCES nat_gateway (id),
    forward_table_id TEXT NOT NULL,
    external_ip TEXT NOT NULL,
    external_port TEXT NOT NULL,
    internal_ip TEXT NOT NULL,
    internal_port TEXT NOT NULL,
    ip_protocol TEXT NOT NULL CHECK (ip_protocol IN ('TCP', 'UDP', 'Any')),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX forward_entry_gateway ON forward_entry (nat_gateway_id, created_at);
-- One DNAT entry per (external IP, external port, protocol) of a table.
CREATE UNIQUE INDEX forward_entry_unique ON forward_entry (forward_table_id, external_ip, external_port, ip_protocol);

CREATE TABLE havip (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL REFERENCES vpc (id),
    vswitch_id TEXT NOT NULL REFERENCES vswitch (id),
    ip TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Creating', 'Available', 'InUse')),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vswitch_id, ip)
);
CREATE INDEX havip_account_region ON havip (account_id, region_id, created_at);

-- Instances and ENIs a HaVip floats between.
CREATE TABLE havip_member (
    havip_id TEXT NOT NULL REFERENCES havip (id),
    instance_id TEXT NOT NULL,
    instance_type TEXT NOT NULL CHECK (instance_type IN ('EcsInstance', 'NetworkInterface')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (havip_id, instance_id)
);
CREATE INDEX havip_member_instance ON havip_member (instance_id);

-- Per-account quotas (HA-02); a missing row means the default.
CREATE TABLE quota (
    account_id TEXT NOT NULL REFERENCES account (id),
    name TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);

-- CLBs (SLB), ALBs and NLBs.
CREATE TABLE load_balancer (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    region_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('clb', 'alb', 'nlb')),
    address_type TEXT NOT NULL CHECK (address_type IN ('internet', 'intranet')),
    vpc_id TEXT REFERENCES vpc (id),
    vswitch_id TEXT REFERENCES vswitch (id),
    -- CLB: its service address (public from the pool, or private in the vSwitch).
    address TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'Provisioning', 'Active')),
    created_at BIGINT NOT NULL,
    -- ALB and NLB live in a VPC.
    CHECK (kind = 'clb' OR vpc_id IS NOT NULL)
);
CREATE INDEX load_balancer_account_region ON load_balancer (account_id, region_id, kind, created_at);

-- Zones of an ALB/NLB: a vSwitch, a private address in it and, when
-- internet-facing, the zone's EIP (LB-02).
CREATE TABLE lb_zone (
    lb_id TEXT NOT NULL REFERENCES load_balancer (id),
    zone_id TEXT NOT NULL,
    vswitch_id TEXT NOT NULL REFERENCES vswitch (id),
    private_ip TEXT NOT NULL,
    allocation_id TEXT UNIQUE,
    PRIMARY KEY (lb_id, zone_id)
);

CREATE TABLE task (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX task_due ON task (due_at);

CREATE TABLE client_token (
    account_id TEXT NOT NULL,
    action TEXT NOT NULL,
    token TEXT NOT NULL,
    params_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, action, token)
);
CREATE INDEX client_token_created ON client_token (created_at);
