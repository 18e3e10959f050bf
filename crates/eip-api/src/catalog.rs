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
}

impl Product {
    /// Every product.
    pub const ALL: &'static [Product] = &[Product::Vpc, Product::Ecs];

    /// Product for an API version string.
    pub fn from_version(v: &str) -> Option<Product> {
        match v {
            "2016-04-28" => Some(Product::Vpc),
            "2014-05-26" => Some(Product::Ecs),
            _ => None,
        }
    }

    /// The version string.
    pub fn version(self) -> &'static str {
        match self {
            Product::Vpc => "2016-04-28",
            Product::Ecs => "2014-05-26",
        }
    }

    /// Alibaba's product code.
    pub fn code(self) -> &'static str {
        match self {
            Product::Vpc => "Vpc",
            Product::Ecs => "Ecs",
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
    Vpc "AllocateEipAddress" true true "Allocates an EIP, or retrieves a recently released address (IpAddress).";
    Vpc "AssociateEipAddress" true true "Associates an EIP with an ECS instance (asynchronous).";
    Vpc "UnassociateEipAddress" true true "Unassociates an EIP (asynchronous).";
    Vpc "ReleaseEipAddress" true false "Releases an Available pay-as-you-go EIP (asynchronous).";
    Vpc "DescribeEipAddresses" false false "Lists EIPs with filters and paging.";
    Vpc "ModifyEipAddressAttribute" true false "Changes an EIP's name, description or bandwidth.";
    Ecs "DescribeRegions" false false "Lists the regions.";
    Ecs "DescribeZones" false false "Lists the zones of a region.";
    Ecs "CreateSecurityGroup" true true "Creates a security group.";
    Ecs "DescribeSecurityGroups" false false "Lists security groups.";
    Ecs "DeleteSecurityGroup" true false "Deletes a security group no instance uses.";
    Ecs "RunInstances" true true "Creates and starts instances (Pending, Starting, Running).";
    Ecs "CreateInstance" true true "Creates a stopped instance (Pending, Stopped).";
    Ecs "DescribeInstances" false false "Lists instances with their addresses and EIP.";
    Ecs "DescribeInstanceStatus" false false "Lists instance statuses.";
    Ecs "StartInstance" true false "Starts a stopped instance.";
    Ecs "StopInstance" true false "Stops a running instance.";
    Ecs "DeleteInstance" true false "Deletes a stopped (or, with Force, running) instance.";
    Ecs "AllocatePublicIpAddress" true false "Gives an instance with outbound bandwidth a static public IP.";
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
