-- Tags of resources other than EIPs (EIPs keep theirs in eip_tag, which the
-- DescribeEipAddresses tag filters read): VPC TagResources, UntagResources
-- and ListTagResources. A resource's tags go when the resource does (the
-- store's delete functions remove them in the same transaction).
CREATE TABLE resource_tag (
    account_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    value TEXT NOT NULL CHECK (length(value) <= 128),
    PRIMARY KEY (resource_type, resource_id, key)
);
CREATE INDEX resource_tag_account ON resource_tag (account_id, resource_type);
