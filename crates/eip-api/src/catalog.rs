//! The action registry: every action openeip answers, per product. The
//! controller's dispatcher must handle each one (a test checks it) and
//! `docs/api-coverage.md` is generated from this list (a test keeps it true).

/// An API product, selected by the request's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Product {
    /// VPC 2016-04-28 (EIP, VPC, vSwitch, NAT gateway, HaVip).
    Vpc,
    /// ECS 2014-05-26 (instances, security groups, ENIs).
    Ecs,
    /// SLB 2014-05-15 (classic load balancers).
    Slb,
    /// ALB 2020-06-16 (application load balancers).
    Alb,
    /// NLB 2022-04-30 (network load balancers).
    Nlb,
    /// STS 2015-04-01 (who is calling).
    Sts,
    /// Quota Center 2020-05-10 (quotas and applications to raise them).
    Quotas,
    /// BssOpenApi 2017-12-14 (balances, bills, subscriptions).
    Bss,
}

impl Product {
    /// Every product.
    pub const ALL: &'static [Product] = &[
        Product::Vpc,
        Product::Ecs,
        Product::Slb,
        Product::Alb,
        Product::Nlb,
        Product::Sts,
        Product::Quotas,
        Product::Bss,
    ];

    /// Product for an API version string.
    pub fn from_version(v: &str) -> Option<Product> {
        match v {
            "2016-04-28" => Some(Product::Vpc),
            "2014-05-26" => Some(Product::Ecs),
            "2014-05-15" => Some(Product::Slb),
            "2020-06-16" => Some(Product::Alb),
            "2022-04-30" => Some(Product::Nlb),
            "2015-04-01" => Some(Product::Sts),
            "2020-05-10" => Some(Product::Quotas),
            "2017-12-14" => Some(Product::Bss),
            _ => None,
        }
    }

    /// The version string.
    pub fn version(self) -> &'static str {
        match self {
            Product::Vpc => "2016-04-28",
            Product::Ecs => "2014-05-26",
            Product::Slb => "2014-05-15",
            Product::Alb => "2020-06-16",
            Product::Nlb => "2022-04-30",
            Product::Sts => "2015-04-01",
            Product::Quotas => "2020-05-10",
            Product::Bss => "2017-12-14",
        }
    }

    /// Alibaba's product code.
    pub fn code(self) -> &'static str {
        match self {
            Product::Vpc => "Vpc",
            Product::Ecs => "Ecs",
            Product::Slb => "Slb",
            Product::Alb => "Alb",
            Product::Nlb => "Nlb",
            Product::Sts => "Sts",
            Product::Quotas => "quotas",
            Product::Bss => "BssOpenApi",
        }
    }
}

/// One action.
#[derive(Clone, Copy, Debug)]
pub struct ActionSpec {
    /// Product.
    pub product: Product,
    /// Wire name, e.g. `AllocateEipAddress`.
    pub name: &'static str,
    /// Whether it changes state (needs the writer, honours ClientToken when `token`).
    pub mutating: bool,
    /// Whether it takes a `ClientToken`.
    pub token: bool,
    /// One line for the coverage document.
    pub summary: &'static str,
}

macro_rules! actions {
    ($($product:ident $name:literal $mutating:literal $token:literal $summary:literal;)*) => {
        /// Every implemented action.
        pub static ACTIONS: &[ActionSpec] = &[
            $(ActionSpec { product: Product::$product, name: $name, mutating: $mutating, token: $token, summary: $summary },)*
        ];
    };
}

actions! {
    Vpc "DescribeRegions" false false "Lists the regions.";
    Vpc "DescribeZones" false false "Lists the zones of a region.";
    Vpc "CreateVpc" true true "Creates a VPC.";
    Vpc "DescribeVpcs" false false "Lists VPCs.";
    Vpc "DeleteVpc" true false "Deletes an empty VPC.";
    Vpc "CreateVSwitch" true true "Creates a vSwitch in a VPC and zone.";
    Vpc "DescribeVSwitches" false false "Lists vSwitches.";
    Vpc "DeleteVSwitch" true false "Deletes an empty vSwitch.";
    Vpc "DescribeVpcAttribute" false false "Shows one VPC (status, CIDR blocks, vSwitches).";
    Vpc "DescribeVSwitchAttributes" false false "Shows one vSwitch (status, free addresses, route table).";
    Vpc "ModifyVpcAttribute" true false "Changes a VPC's name or description.";
    Vpc "ModifyVSwitchAttribute" true false "Changes a vSwitch's name or description.";
    Vpc "DescribeRouteTables" false false "A VPC's system route table with its system routes (one per vSwitch).";
    Vpc "DescribeRouteTableList" false false "Route tables by VPC, id or router (each VPC's system table).";
    Vpc "AssociateVpcCidrBlock" true false "Adds a secondary IPv4 CIDR block to a VPC, private or public (VIS-03).";
    Vpc "UnassociateVpcCidrBlock" true false "Removes a secondary CIDR block no vSwitch uses.";
    Vpc "AllocateEipAddress" true true "Allocates an EIP, or retrieves a recently released address (IpAddress).";
    Vpc "AssociateEipAddress" true true "Associates an EIP with an ECS instance, ENI (NAT, BINDED, MULTI_BINDED), NAT gateway, CLB or HaVip (asynchronous).";
    Vpc "UnassociateEipAddress" true true "Unassociates an EIP (asynchronous).";
    Vpc "ReleaseEipAddress" true false "Releases an Available pay-as-you-go EIP (asynchronous).";
    Vpc "DescribeEipAddresses" false false "Lists EIPs with filters and paging.";
    Vpc "DescribeEipMonitorData" false false "Per-period traffic of an EIP, counted by the data plane (zeros without one).";
    Vpc "ModifyEipAddressAttribute" true false "Changes an EIP's name, description or bandwidth.";
    Vpc "AssociateEipAddressBatch" true true "Associates up to 50 EIPs with a NAT gateway or an ENI, all or nothing.";
    Vpc "CreateNatGateway" true true "Creates a NAT gateway (Creating, then Available).";
    Vpc "DescribeNatGateways" false false "Lists NAT gateways with their EIPs.";
    Vpc "DeleteNatGateway" true false "Deletes a NAT gateway (Force removes entries and unbinds EIPs).";
    Vpc "CreateSnatEntry" true true "Adds an SNAT entry using EIPs of the gateway.";
    Vpc "DescribeSnatTableEntries" false false "Lists SNAT entries.";
    Vpc "DeleteSnatEntry" true true "Deletes an SNAT entry.";
    Vpc "CreateForwardEntry" true true "Adds a DNAT entry on an EIP of the gateway.";
    Vpc "DescribeForwardTableEntries" false false "Lists DNAT entries.";
    Vpc "DeleteForwardEntry" true true "Deletes a DNAT entry.";
    Vpc "CreateHaVip" true true "Creates a HaVip in a vSwitch (quota-checked; Creating, then Available).";
    Vpc "DescribeHaVips" false false "Lists HaVips with their instances and EIP.";
    Vpc "AssociateHaVip" true true "Associates a HaVip with an instance or ENI.";
    Vpc "UnassociateHaVip" true true "Unassociates a HaVip from an instance or ENI.";
    Vpc "DeleteHaVip" true true "Deletes a HaVip with no EIP or instance.";
    Vpc "TagResources" true false "Adds tags to EIPs, VPCs, vSwitches, route tables, NAT gateways or HaVips (20 per resource).";
    Vpc "UnTagResources" true false "Removes tags (TagKey.N, or All) from those resources.";
    Vpc "ListTagResources" false false "Lists the tags of resources by id or by tag (MaxResults/NextToken).";
    Vpc "DeletionProtection" true true "Turns an EIP's deletion protection on or off (a protected EIP cannot be released).";
    Vpc "MoveResourceGroup" true false "Moves an EIP to another resource group.";
    Vpc "ModifyEipForwardMode" true true "Changes an EIP's mode (NAT, BINDED, MULTI_BINDED) while unassociated or on a detached ENI.";
    Ecs "DescribeRegions" false false "Lists the regions.";
    Ecs "DescribeZones" false false "Lists the zones of a region.";
    Ecs "CreateSecurityGroup" true true "Creates a security group.";
    Ecs "DescribeSecurityGroups" false false "Lists security groups.";
    Ecs "DeleteSecurityGroup" true false "Deletes a security group no instance uses.";
    Ecs "RunInstances" true true "Creates and starts instances (Pending, Starting, Running).";
    Ecs "CreateInstance" true true "Creates a stopped instance (Pending, Stopped).";
    Ecs "DescribeInstances" false false "Lists instances with their addresses and EIP.";
    Ecs "DescribeInstanceStatus" false false "Lists instance statuses.";
    Ecs "DescribeInstanceAttribute" false false "Shows one instance by id (no RegionId needed).";
    Ecs "DescribeUserData" false false "An instance's user data (RunInstances/CreateInstance `UserData`, Base64).";
    Ecs "DescribeDisks" false false "Instances' system disks (one 40 GiB ESSD each; no data disks are modelled).";
    Ecs "StartInstance" true false "Starts a stopped instance.";
    Ecs "StopInstance" true false "Stops a running instance.";
    Ecs "DeleteInstance" true false "Deletes a stopped (or, with Force, running) instance.";
    Ecs "AllocatePublicIpAddress" true false "Gives an instance with outbound bandwidth a static public IP.";
    Ecs "CreateNetworkInterface" true true "Creates a secondary ENI with private IPs.";
    Ecs "DescribeNetworkInterfaces" false false "Lists ENIs with their private IPs, EIPs and guest configuration.";
    Ecs "AttachNetworkInterface" true false "Attaches a secondary ENI (Attaching, then InUse).";
    Ecs "DetachNetworkInterface" true false "Detaches a secondary ENI (Detaching, then Available).";
    Ecs "DeleteNetworkInterface" true false "Deletes an Available secondary ENI without EIPs.";
    Ecs "AssignPrivateIpAddresses" true true "Adds secondary private IPs to an ENI.";
    Ecs "UnassignPrivateIpAddresses" true false "Removes secondary private IPs without EIPs from an ENI.";
    Ecs "DescribeInstanceTypes" false false "Lists instance types with their ENI limits.";
    Ecs "AllocateEipAddress" true true "The older ECS-product EIP API: allocates an EIP (VPC's rules, ECS's fields).";
    Ecs "DescribeEipAddresses" false false "The older ECS-product EIP API: lists EIPs with ECS's fields.";
    Ecs "AssociateEipAddress" true false "The older ECS-product EIP API: associates an EIP (VPC's rules).";
    Ecs "UnassociateEipAddress" true false "The older ECS-product EIP API: unassociates an EIP.";
    Ecs "ReleaseEipAddress" true false "The older ECS-product EIP API: releases an EIP.";
    Ecs "ModifyEipAddressAttribute" true false "The older ECS-product EIP API: changes an EIP's bandwidth (required).";
    Slb "CreateLoadBalancer" true true "Creates a CLB (internet, or intranet in a vSwitch).";
    Slb "DescribeLoadBalancers" false false "Lists CLBs.";
    Slb "DescribeLoadBalancerAttribute" false false "Shows one CLB with its listeners and backend servers.";
    Slb "TagResources" true false "Adds tags to CLBs (`ResourceType=instance`).";
    Slb "UntagResources" true false "Removes tags from CLBs.";
    Slb "ListTagResources" false false "Lists CLB tags by id or by tag.";
    Slb "DeleteLoadBalancer" true false "Deletes a CLB (its EIP is unbound).";
    Slb "CreateLoadBalancerTCPListener" true false "Adds a TCP listener (ListenerPort to BackendServerPort), stopped, with TCP health checks (on by default).";
    Slb "StartLoadBalancerListener" true false "Starts a listener.";
    Slb "StopLoadBalancerListener" true false "Stops a listener (the gateway stops spreading its connections).";
    Slb "DeleteLoadBalancerListener" true false "Deletes a listener.";
    Slb "RemoveBackendServers" true false "Removes backend servers from a CLB.";
    Slb "SetBackendServers" true false "Re-weights backend servers of a CLB (weight 0 takes a server out).";
    Slb "DescribeHealthStatus" false false "Backend servers of running listeners: `normal`/`abnormal` from the data plane's health checks (`unavailable` without them).";
    Slb "AddBackendServers" true false "Adds or re-weights ECS backend servers of a CLB.";
    Slb "DescribeLoadBalancerTCPListenerAttribute" false false "Shows a TCP listener and its health-check settings.";
    Slb "SetLoadBalancerTCPListenerAttribute" true false "Changes a TCP listener's health-check settings and bandwidth.";
    Slb "SetLoadBalancerDeleteProtection" true false "Turns a CLB's deletion protection on or off.";
    Alb "CreateLoadBalancer" true true "Creates an ALB; internet-facing ones take one EIP per zone.";
    Alb "GetLoadBalancerAttribute" false false "Shows an ALB with its zones and EIPs.";
    Alb "ListLoadBalancers" false false "Lists ALBs.";
    Alb "UpdateLoadBalancerAddressTypeConfig" true true "Switches an ALB between Intranet and Internet (zone EIPs).";
    Alb "DeleteLoadBalancer" true true "Deletes an ALB (its EIPs are unbound).";
    Alb "EnableDeletionProtection" true true "Turns an ALB's deletion protection on.";
    Alb "DisableDeletionProtection" true true "Turns an ALB's deletion protection off.";
    Nlb "CreateLoadBalancer" true true "Creates an NLB; internet-facing ones take one EIP per zone.";
    Nlb "GetLoadBalancerAttribute" false false "Shows an NLB with its zones and EIPs.";
    Nlb "ListLoadBalancers" false false "Lists NLBs.";
    Nlb "UpdateLoadBalancerAddressTypeConfig" true true "Switches an NLB between Intranet and Internet (zone EIPs).";
    Nlb "DeleteLoadBalancer" true true "Deletes an NLB (its EIPs are unbound).";
    Sts "GetCallerIdentity" false false "Who signed the request: the account id and the root identity's ARN.";
    Quotas "ListProductQuotas" false false "A product's quotas (eip, vpc, nat) with the account's values and usage.";
    Quotas "GetProductQuota" false false "One quota with the account's value and usage.";
    Quotas "CreateQuotaApplication" true false "Applies to raise a quota: approved at once up to the review policy's ceiling, else left for an operator.";
    Quotas "ListQuotaApplications" false false "The account's applications, newest first.";
    Quotas "GetQuotaApplication" false false "One application.";
    Bss "QueryAccountBalance" false false "The account's balance (eipd account topup adds to it).";
    Bss "QueryAvailableInstances" false false "The account's EIPs as the billing system lists them (Terraform's provider calls it at start).";
}

/// The product whose error table an action answers with. The ECS product's
/// EIP actions are VPC's actions under ECS's version, and their documented
/// errors are VPC's (e.g. `IncorrectInstanceStatus` is 400 there, 403 in
/// ECS's own instance actions).
pub fn error_product(product: Product, action: &str) -> Product {
    match (product, action) {
        (
            Product::Ecs,
            "AllocateEipAddress"
            | "DescribeEipAddresses"
            | "AssociateEipAddress"
            | "UnassociateEipAddress"
            | "ReleaseEipAddress"
            | "ModifyEipAddressAttribute",
        ) => Product::Vpc,
        _ => product,
    }
}

/// Looks an action up.
pub fn find(product: Product, name: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.product == product && a.name == name)
}

/// The coverage document, generated from [`ACTIONS`].
pub fn coverage_markdown() -> String {
    let mut s = String::from(
        "# API coverage\n\nGenerated from the action registry (`crates/eip-api/src/catalog.rs`); \
         a test fails when this file and the registry disagree. Regenerate with \
         `eipd api-coverage > docs/api-coverage.md`.\n",
    );
    for p in Product::ALL {
        s.push_str(&format!(
            "\n## {} {}\n\n| Action | Writes | ClientToken | What it does |\n|---|---|---|---|\n",
            p.code(),
            p.version()
        ));
        for a in ACTIONS.iter().filter(|a| a.product == *p) {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                a.name,
                if a.mutating { "yes" } else { "no" },
                if a.token { "yes" } else { "no" },
                a.summary
            ));
        }
    }
    s
}
