-- openeip schema for PostgreSQL: the state the SQLite migrations
-- 0001..0011 (crates/eip-store-sqlite/migrations) arrive at, as one file
-- (the PostgreSQL backend has never shipped, so it has no history to
-- replay). Tables, columns (and their order, including the columns SQLite's
-- migrations 0004, 0007 and 0008 appended with ALTER TABLE), defaults,
-- CHECKs, foreign keys (with the same ON DELETE behaviour), primary keys,
-- UNIQUE constraints and index names are those of SQLite, so the shared
-- statements (crates/eip-store/src/sql) run unchanged on both backends.
-- schema_migration is not here: the migrator creates it before running this.
--
-- Differences from the SQLite text, all deliberate:
--   * Every integer column is BIGINT (SQLite's INTEGER columns too): the Rust
--     side binds and reads i64 everywhere, and PostgreSQL refuses an int8
--     parameter for an int4 column.
--   * Booleans stay BIGINT 0/1 with SQLite's CHECKs (the shared statements
--     bind integers). load_balancer.delete_protection has no CHECK, as in
--     SQLite (0007 added it without one).
--   * Text columns are TEXT COLLATE "C": comparisons, UNIQUE and ORDER BY
--     are bytewise, as SQLite's BINARY collation is, whatever the database's
--     locale. Without it an en_US database would sort ids and names another
--     way than SQLite does.
--   * CHECKs and UNIQUEs are unnamed, as in SQLite; PostgreSQL names them
--     <table>_<column>_key, <table>_<column>_check, <table>_check[N],
--     <table>_pkey, <table>_<column>_fkey. Nothing reads those names (errors
--     are told apart by SQLSTATE: 23505 unique, 23514/23503/23502 other).
--   * length() in CHECKs counts characters on both (SQLite on TEXT values).
--
-- Portability (CockroachDB, YugabyteDB): no triggers, sequences, SERIAL,
-- identity columns, rowid, advisory locks, enums, domains or extensions;
-- only BIGINT and TEXT, CHECK, partial (WHERE) indexes and plain foreign
-- keys. Known not to carry over as is:
--   * COLLATE "C": CockroachDB 22.1 and older reject it (invalid locale),
--     and on CockroachDB a collated column is a distinct type that does not
--     compare with plain string parameters. CockroachDB's STRING already
--     compares bytewise, so there strip every ` COLLATE "C"` from this file.
--     YugabyteDB accepts it.
--   * Partial indexes need CockroachDB 20.2 or later.
--   * NULL ordering differs by engine (SQLite and CockroachDB put NULLs first
--     in ascending order, PostgreSQL and YugabyteDB last): queries that sort
--     on a nullable column must say NULLS FIRST to agree with SQLite. The
--     indexes here keep the default ordering; public_address_free is the one
--     index behind such a sort (released_at; NULL only for an address freed
--     without a release time, which the controller does not write).

CREATE TABLE account (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE access_key (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    secret TEXT COLLATE "C" NOT NULL,
    active BIGINT NOT NULL CHECK (active IN (0, 1)),
    created_at BIGINT NOT NULL
);
CREATE INDEX access_key_account ON access_key (account_id);

CREATE TABLE setting (
    key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE address_pool (
    region_id TEXT COLLATE "C" NOT NULL,
    cidr TEXT COLLATE "C" NOT NULL,
    cursor BIGINT NOT NULL CHECK (cursor >= 0),
    position BIGINT NOT NULL,
    PRIMARY KEY (region_id, cidr)
);

-- One row per public address ever handed out: who holds it now, and who
-- held it last (GEN-03 retrieval; last_eip_id from SQLite's 0008).
CREATE TABLE public_address (
    ip TEXT COLLATE "C" PRIMARY KEY,
    region_id TEXT COLLATE "C" NOT NULL,
    holder_kind TEXT COLLATE "C" CHECK (holder_kind IN ('eip', 'instance', 'lb')),
    holder_id TEXT COLLATE "C",
    last_account_id TEXT COLLATE "C",
    released_at BIGINT,
    last_eip_id TEXT COLLATE "C",
    CHECK ((holder_kind IS NULL) = (holder_id IS NULL))
);
CREATE UNIQUE INDEX public_address_holder ON public_address (holder_id) WHERE holder_id IS NOT NULL;
CREATE INDEX public_address_free ON public_address (region_id, released_at) WHERE holder_id IS NULL;
CREATE INDEX public_address_last_eip ON public_address (last_eip_id) WHERE last_eip_id IS NOT NULL;

CREATE TABLE vpc (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    cidr TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    is_default BIGINT NOT NULL CHECK (is_default IN (0, 1)),
    vrouter_id TEXT COLLATE "C" NOT NULL,
    route_table_id TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX vpc_account_region ON vpc (account_id, region_id);

CREATE TABLE vswitch (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    vpc_id TEXT COLLATE "C" NOT NULL REFERENCES vpc (id),
    zone_id TEXT COLLATE "C" NOT NULL,
    cidr TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX vswitch_account_region ON vswitch (account_id, region_id);
CREATE INDEX vswitch_vpc ON vswitch (vpc_id);

CREATE TABLE security_group (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    vpc_id TEXT COLLATE "C" REFERENCES vpc (id),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX security_group_account_region ON security_group (account_id, region_id);
CREATE INDEX security_group_vpc ON security_group (vpc_id);

CREATE TABLE instance (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    zone_id TEXT COLLATE "C" NOT NULL,
    network_type TEXT COLLATE "C" NOT NULL CHECK (network_type IN ('vpc', 'classic')),
    vpc_id TEXT COLLATE "C" REFERENCES vpc (id),
    vswitch_id TEXT COLLATE "C" REFERENCES vswitch (id),
    security_group_id TEXT COLLATE "C" REFERENCES security_group (id),
    instance_type TEXT COLLATE "C" NOT NULL,
    image_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    hostname TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('Pending', 'Starting', 'Running', 'Stopping', 'Stopped')),
    want_running BIGINT NOT NULL CHECK (want_running IN (0, 1)),
    internet_charge_type TEXT COLLATE "C" NOT NULL CHECK (internet_charge_type IN ('PayByBandwidth', 'PayByTraffic')),
    internet_max_bandwidth_out BIGINT NOT NULL CHECK (internet_max_bandwidth_out >= 0),
    public_ip TEXT COLLATE "C" UNIQUE,
    charge_type TEXT COLLATE "C" NOT NULL CHECK (charge_type IN ('PostPaid', 'PrePaid')),
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
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    zone_id TEXT COLLATE "C" NOT NULL,
    vpc_id TEXT COLLATE "C" NOT NULL REFERENCES vpc (id),
    vswitch_id TEXT COLLATE "C" NOT NULL REFERENCES vswitch (id),
    instance_id TEXT COLLATE "C" REFERENCES instance (id),
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('Primary', 'Secondary')),
    mac TEXT COLLATE "C" NOT NULL UNIQUE,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('Available', 'Attaching', 'InUse', 'Detaching')),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    security_group_id TEXT COLLATE "C",
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
    vswitch_id TEXT COLLATE "C" NOT NULL REFERENCES vswitch (id),
    ip TEXT COLLATE "C" NOT NULL,
    holder_id TEXT COLLATE "C" NOT NULL,
    is_primary BIGINT NOT NULL CHECK (is_primary IN (0, 1)),
    PRIMARY KEY (vswitch_id, ip)
);
CREATE INDEX private_ip_holder ON private_ip (holder_id);

CREATE TABLE eip (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    -- GEN-02: one EIP per address, and the address never changes.
    ip TEXT COLLATE "C" NOT NULL UNIQUE,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('Available', 'Associating', 'InUse', 'Unassociating', 'Releasing')),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    bandwidth BIGINT NOT NULL CHECK (bandwidth >= 1),
    charge_type TEXT COLLATE "C" NOT NULL CHECK (charge_type IN ('PostPaid', 'PrePaid')),
    internet_charge_type TEXT COLLATE "C" NOT NULL CHECK (internet_charge_type IN ('PayByBandwidth', 'PayByTraffic')),
    isp TEXT COLLATE "C" NOT NULL,
    netmode TEXT COLLATE "C" NOT NULL,
    resource_group_id TEXT COLLATE "C" NOT NULL,
    allocated_at BIGINT NOT NULL,
    expired_at BIGINT,
    deletion_protection BIGINT NOT NULL CHECK (deletion_protection IN (0, 1)),
    instance_type TEXT COLLATE "C" CHECK (instance_type IN ('EcsInstance', 'SlbInstance', 'Nat', 'HaVip', 'NetworkInterface', 'IpAddress', 'Alb', 'Nlb')),
    instance_id TEXT COLLATE "C",
    -- The private address the EIP maps to (data plane), and the vSwitch it lives in.
    private_ip TEXT COLLATE "C",
    private_vswitch_id TEXT COLLATE "C",
    mode TEXT COLLATE "C" CHECK (mode IN ('NAT', 'MULTI_BINDED', 'BINDED')),
    instance_region_id TEXT COLLATE "C",
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
-- Looking EIPs up by private address, in every mode (SQLite's 0005).
CREATE INDEX eip_private_ip ON eip (private_vswitch_id, private_ip) WHERE private_ip IS NOT NULL;

CREATE TABLE eip_tag (
    eip_id TEXT COLLATE "C" NOT NULL REFERENCES eip (id) ON DELETE CASCADE,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (eip_id, key)
);
CREATE INDEX eip_tag_kv ON eip_tag (key, value);

CREATE TABLE nat_gateway (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    vpc_id TEXT COLLATE "C" NOT NULL REFERENCES vpc (id),
    vswitch_id TEXT COLLATE "C" NOT NULL REFERENCES vswitch (id),
    zone_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('Creating', 'Available')),
    network_type TEXT COLLATE "C" NOT NULL CHECK (network_type IN ('internet', 'intranet')),
    eip_bind_mode TEXT COLLATE "C" NOT NULL CHECK (eip_bind_mode IN ('MULTI_BINDED', 'NAT')),
    snat_table_id TEXT COLLATE "C" NOT NULL UNIQUE,
    forward_table_id TEXT COLLATE "C" NOT NULL UNIQUE,
    full_nat_table_id TEXT COLLATE "C" NOT NULL UNIQUE,
    -- The gateway's own interface and its address in the vSwitch.
    eni_id TEXT COLLATE "C" NOT NULL UNIQUE,
    private_ip TEXT COLLATE "C" NOT NULL,
    -- NAT-03 depends on it; `eipd nat set-creation-time` changes it (imports).
    created_at BIGINT NOT NULL
);
CREATE INDEX nat_gateway_account_region ON nat_gateway (account_id, region_id, created_at);

CREATE TABLE snat_entry (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    nat_gateway_id TEXT COLLATE "C" NOT NULL REFERENCES nat_gateway (id),
    snat_table_id TEXT COLLATE "C" NOT NULL,
    -- Comma-separated EIP addresses of the gateway.
    snat_ips TEXT COLLATE "C" NOT NULL CHECK (snat_ips <> ''),
    source_vswitch_id TEXT COLLATE "C",
    source_cidr TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX snat_entry_gateway ON snat_entry (nat_gateway_id, created_at);

CREATE TABLE forward_entry (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    nat_gateway_id TEXT COLLATE "C" NOT NULL REFERENCES nat_gateway (id),
    forward_table_id TEXT COLLATE "C" NOT NULL,
    external_ip TEXT COLLATE "C" NOT NULL,
    external_port TEXT COLLATE "C" NOT NULL,
    internal_ip TEXT COLLATE "C" NOT NULL,
    internal_port TEXT COLLATE "C" NOT NULL,
    ip_protocol TEXT COLLATE "C" NOT NULL CHECK (ip_protocol IN ('TCP', 'UDP', 'Any')),
    name TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX forward_entry_gateway ON forward_entry (nat_gateway_id, created_at);
-- One DNAT entry per (external IP, external port, protocol) of a table.
CREATE UNIQUE INDEX forward_entry_unique ON forward_entry (forward_table_id, external_ip, external_port, ip_protocol);

CREATE TABLE havip (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    vpc_id TEXT COLLATE "C" NOT NULL REFERENCES vpc (id),
    vswitch_id TEXT COLLATE "C" NOT NULL REFERENCES vswitch (id),
    ip TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('Creating', 'Available', 'InUse')),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vswitch_id, ip)
);
CREATE INDEX havip_account_region ON havip (account_id, region_id, created_at);

-- Instances and ENIs a HaVip floats between.
CREATE TABLE havip_member (
    havip_id TEXT COLLATE "C" NOT NULL REFERENCES havip (id),
    instance_id TEXT COLLATE "C" NOT NULL,
    instance_type TEXT COLLATE "C" NOT NULL CHECK (instance_type IN ('EcsInstance', 'NetworkInterface')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (havip_id, instance_id)
);
CREATE INDEX havip_member_instance ON havip_member (instance_id);

-- Per-account quotas (HA-02); a missing row means the default.
CREATE TABLE quota (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    name TEXT COLLATE "C" NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);

-- CLBs (SLB), ALBs and NLBs; delete_protection and master_zone_id from
-- SQLite's 0007.
CREATE TABLE load_balancer (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES account (id),
    region_id TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('clb', 'alb', 'nlb')),
    address_type TEXT COLLATE "C" NOT NULL CHECK (address_type IN ('internet', 'intranet')),
    vpc_id TEXT COLLATE "C" REFERENCES vpc (id),
    vswitch_id TEXT COLLATE "C" REFERENCES vswitch (id),
    -- CLB: its service address (public from the pool, or private in the vSwitch).
    address TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    spec TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'Provisioning', 'Active')),
    created_at BIGINT NOT NULL,
    delete_protection BIGINT NOT NULL DEFAULT 0,
    master_zone_id TEXT COLLATE "C",
    -- ALB and NLB live in a VPC.
    CHECK (kind = 'clb' OR vpc_id IS NOT NULL)
);
CREATE INDEX load_balancer_account_region ON load_balancer (account_id, region_id, kind, created_at);

-- Zones of an ALB/NLB: a vSwitch, a private address in it and, when
-- internet-facing, the zone's EIP (LB-02).
CREATE TABLE lb_zone (
    lb_id TEXT COLLATE "C" NOT NULL REFERENCES load_balancer (id),
    zone_id TEXT COLLATE "C" NOT NULL,
    vswitch_id TEXT COLLATE "C" NOT NULL REFERENCES vswitch (id),
    private_ip TEXT COLLATE "C" NOT NULL,
    allocation_id TEXT COLLATE "C" UNIQUE,
    PRIMARY KEY (lb_id, zone_id)
);

CREATE TABLE task (
    id TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT COLLATE "C" NOT NULL,
    resource_id TEXT COLLATE "C" NOT NULL,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX task_due ON task (due_at);

CREATE TABLE client_token (
    account_id TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    token TEXT COLLATE "C" NOT NULL,
    params_hash TEXT COLLATE "C" NOT NULL,
    response TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, action, token)
);
CREATE INDEX client_token_created ON client_token (created_at);

-- CLB TCP listeners (EIP:ListenerPort on the gateway) with their health
-- checks (SQLite's 0002 and 0004: listeners made before 0004 keep `off`;
-- a NULL port means the listener's BackendServerPort), and backend servers.
CREATE TABLE clb_listener (
    lb_id TEXT COLLATE "C" NOT NULL REFERENCES load_balancer (id),
    port BIGINT NOT NULL,
    backend_port BIGINT NOT NULL,
    bandwidth BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    health_check TEXT COLLATE "C" NOT NULL DEFAULT 'off' CHECK (health_check IN ('on', 'off')),
    health_check_connect_port BIGINT
        CHECK (health_check_connect_port IS NULL OR health_check_connect_port BETWEEN 1 AND 65535),
    healthy_threshold BIGINT NOT NULL DEFAULT 3 CHECK (healthy_threshold BETWEEN 2 AND 10),
    unhealthy_threshold BIGINT NOT NULL DEFAULT 3 CHECK (unhealthy_threshold BETWEEN 2 AND 10),
    health_check_connect_timeout BIGINT NOT NULL DEFAULT 5 CHECK (health_check_connect_timeout BETWEEN 1 AND 300),
    health_check_interval BIGINT NOT NULL DEFAULT 2 CHECK (health_check_interval BETWEEN 1 AND 50),
    PRIMARY KEY (lb_id, port)
);

CREATE TABLE clb_backend (
    lb_id TEXT COLLATE "C" NOT NULL REFERENCES load_balancer (id),
    server_id TEXT COLLATE "C" NOT NULL,
    weight BIGINT NOT NULL,
    PRIMARY KEY (lb_id, server_id)
);

-- Per-EIP traffic totals as the data plane measured them (DescribeEipMonitorData),
-- at most one sample per EIP and minute (the last one taken in that minute), kept
-- for a day, so a restart does not lose the monitoring history.
CREATE TABLE eip_traffic (
    eip_id TEXT COLLATE "C" NOT NULL,
    minute_ms BIGINT NOT NULL,
    at_ms BIGINT NOT NULL CHECK (at_ms >= minute_ms AND at_ms < minute_ms + 60000),
    rx_bytes BIGINT NOT NULL CHECK (rx_bytes >= 0),
    tx_bytes BIGINT NOT NULL CHECK (tx_bytes >= 0),
    rx_packets BIGINT NOT NULL CHECK (rx_packets >= 0),
    tx_packets BIGINT NOT NULL CHECK (tx_packets >= 0),
    PRIMARY KEY (eip_id, minute_ms)
);
CREATE INDEX eip_traffic_at ON eip_traffic (at_ms);

-- Signature nonces of acknowledged writes, kept until the signing window has
-- passed, so a write replayed after a restart is still refused with
-- SignatureNonceUsed. The key is "AccessKeyId\nnonce"; expires_at is real
-- time in ms.
CREATE TABLE request_nonce (
    key TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX request_nonce_expiry ON request_nonce (expires_at);

-- Tags of resources other than EIPs (EIPs keep theirs in eip_tag). A
-- resource's tags go when the resource does (the store's delete functions
-- remove them in the same transaction).
CREATE TABLE resource_tag (
    account_id TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    resource_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    value TEXT COLLATE "C" NOT NULL CHECK (length(value) <= 128),
    PRIMARY KEY (resource_type, resource_id, key)
);
CREATE INDEX resource_tag_account ON resource_tag (account_id, resource_type);

-- RunInstances / CreateInstance UserData (Base64, as sent), served by ECS
-- DescribeUserData; its own table so the instance rows stay small.
CREATE TABLE instance_user_data (
    instance_id TEXT COLLATE "C" PRIMARY KEY REFERENCES instance (id) ON DELETE CASCADE,
    user_data TEXT COLLATE "C" NOT NULL CHECK (length(user_data) <= 45000)
);

-- VPC secondary IPv4 CIDR blocks (AssociateVpcCidrBlock; VIS-03). Removed
-- with the VPC.
CREATE TABLE vpc_secondary_cidr (
    vpc_id TEXT COLLATE "C" NOT NULL REFERENCES vpc (id) ON DELETE CASCADE,
    cidr TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (vpc_id, cidr)
);
