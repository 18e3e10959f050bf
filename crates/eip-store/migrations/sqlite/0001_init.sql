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
    holder_kind TEXT CHECK (holder_kind IN ('eip', 'instance')),
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
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    security_group_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX eni_instance ON eni (instance_id);
CREATE INDEX eni_vswitch ON eni (vswitch_id);
-- An instance has exactly one primary ENI.
CREATE UNIQUE INDEX eni_one_primary ON eni (instance_id) WHERE kind = 'Primary';

CREATE TABLE private_ip (
    vswitch_id TEXT NOT NULL REFERENCES vswitch (id),
    ip TEXT NOT NULL,
    eni_id TEXT NOT NULL REFERENCES eni (id),
    is_primary INTEGER NOT NULL CHECK (is_primary IN (0, 1)),
    PRIMARY KEY (vswitch_id, ip)
);
CREATE INDEX private_ip_eni ON private_ip (eni_id);

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
    instance_type TEXT CHECK (instance_type IN ('EcsInstance', 'SlbInstance', 'Nat', 'HaVip', 'NetworkInterface', 'IpAddress')),
    instance_id TEXT,
    private_ip TEXT,
    mode TEXT CHECK (mode IN ('NAT', 'MULTI_BINDED', 'BINDED')),
    instance_region_id TEXT,
    version BIGINT NOT NULL,
    CHECK ((instance_type IS NULL) = (instance_id IS NULL)),
    -- GEN-04: a target is recorded exactly while associating, in use or unassociating.
    CHECK ((status IN ('Associating', 'InUse', 'Unassociating')) = (instance_id IS NOT NULL))
);
CREATE INDEX eip_account_region ON eip (account_id, region_id, allocated_at);
CREATE INDEX eip_target ON eip (instance_id) WHERE instance_id IS NOT NULL;
-- ECS-02: at most one EIP directly on an ECS instance.
CREATE UNIQUE INDEX eip_one_per_ecs ON eip (instance_id) WHERE instance_type = 'EcsInstance';

CREATE TABLE eip_tag (
    eip_id TEXT NOT NULL REFERENCES eip (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (eip_id, key)
);
CREATE INDEX eip_tag_kv ON eip_tag (key, value);

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
