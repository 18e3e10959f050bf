-- Load balancers: deletion protection (CLB `DeleteProtection`, ALB
-- `DeletionProtectionEnabled`, NLB `DeletionProtectionConfig.Enabled`) and the
-- CLB's master zone (the vSwitch's zone for a VPC CLB).
ALTER TABLE load_balancer ADD COLUMN delete_protection INTEGER NOT NULL DEFAULT 0;
ALTER TABLE load_balancer ADD COLUMN master_zone_id TEXT;
