-- VPC secondary IPv4 CIDR blocks (AssociateVpcCidrBlock; VIS-03: a public
-- block whose addresses ENIs take as private IPs). Removed with the VPC.
CREATE TABLE vpc_secondary_cidr (
    vpc_id TEXT NOT NULL REFERENCES vpc (id) ON DELETE CASCADE,
    cidr TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (vpc_id, cidr)
);
