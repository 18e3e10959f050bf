-- Looking EIPs up by private address (is this private IP already mapped?) on every
-- association to an instance or ENI: without an index over all modes this scanned the
-- whole eip table (11 ms per AssociateEipAddress at 100k EIPs).
CREATE INDEX eip_private_ip ON eip (private_vswitch_id, private_ip) WHERE private_ip IS NOT NULL;
