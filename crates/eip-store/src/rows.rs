//! Row types: what each table holds, typed. `New` rows and stored rows are
//! the same structs; the controller builds them and the backend maps columns.

use eip_types::{
    AssociatedInstanceType, BackendHealth, ChargeType, EipMode, EipStatus, EniStatus, EniType, HaVipStatus,
    InstanceNetworkType, InstanceStatus, InternetChargeType, IpProtocol, LbAddressType, LoadBalancerKind,
    NatEipBindMode, NatGatewayStatus, NatNetworkType, QuotaApplicationStatus,
};

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    /// `acc-…`
    pub id: String,
    /// Unique display name (`root` for the first account).
    pub name: String,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Whether its AccessKeys may sign requests (`eipd account disable` clears it).
    pub active: bool,
}

/// A web console session, kept in the store so every node knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSessionRow {
    /// SHA-256 (hex) of the session cookie's value: the store never holds a
    /// usable cookie.
    pub id_hash: String,
    /// The signed-in account.
    pub account_id: String,
    /// Its display name.
    pub account_name: String,
    /// The token every state-changing form must carry.
    pub csrf: String,
    /// The region chosen in the top bar.
    pub region_id: String,
    /// When it stops being valid (ms since the epoch).
    pub expires_at: i64,
}

/// An application to raise a quota (Quota Center CreateQuotaApplication).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaApplicationRow {
    /// The application id (a UUID-like token).
    pub id: String,
    /// Who applied.
    pub account_id: String,
    /// The quota's catalogue name (`eip_count`, `havip_permission`, …).
    pub quota_name: String,
    /// `ProductCode` as applied.
    pub product_code: String,
    /// `QuotaActionCode` as applied (an alias stays as sent).
    pub quota_action_code: String,
    /// `DesireValue`.
    pub desire_value: i64,
    /// `ApproveValue`: set once approved.
    pub approve_value: Option<i64>,
    /// Where it stands.
    pub status: QuotaApplicationStatus,
    /// `Reason`.
    pub reason: String,
    /// `AuditReason`: why it was decided so (empty until decided).
    pub audit_reason: String,
    /// `Dimension` as applied, a JSON object (`{}` for none).
    pub dimension: String,
    /// `NoticeType`.
    pub notice_type: i64,
    /// `ApplyTime` (ms since the epoch).
    pub applied_at: i64,
    /// When it was decided.
    pub decided_at: Option<i64>,
}

/// An AccessKey pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyRow {
    /// The AccessKeyId.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// The AccessKeySecret.
    pub secret: String,
    /// Disabled keys are refused.
    pub active: bool,
    /// Creation time.
    pub created_at: i64,
}

/// A public address pool of a region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolRow {
    /// Region.
    pub region_id: String,
    /// Block, `a.b.c.d/n`.
    pub cidr: String,
    /// Position in the block's permutation of the next never-used address.
    pub cursor: i64,
}

/// The history of one public address that has been handed out at least once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressRow {
    /// The address.
    pub ip: String,
    /// Region of its pool.
    pub region_id: String,
    /// `eip` or `instance` while held.
    pub holder_kind: Option<String>,
    /// The holding EIP or instance id while held.
    pub holder_id: Option<String>,
    /// The account whose EIP held it last (GEN-03).
    pub last_account_id: Option<String>,
    /// When it was last released.
    pub released_at: Option<i64>,
}

/// A VPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcRow {
    /// `vpc-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// IPv4 block.
    pub cidr: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Whether it is the region's default VPC.
    pub is_default: bool,
    /// `vrt-…`
    pub vrouter_id: String,
    /// `vtb-…`
    pub route_table_id: String,
    /// Creation time.
    pub created_at: i64,
}

/// A vSwitch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VSwitchRow {
    /// `vsw-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// VPC.
    pub vpc_id: String,
    /// Zone.
    pub zone_id: String,
    /// IPv4 block inside the VPC's.
    pub cidr: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at: i64,
}

/// A security group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityGroupRow {
    /// `sg-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// VPC.
    pub vpc_id: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at: i64,
}

/// An ECS instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceRow {
    /// `i-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// Zone.
    pub zone_id: String,
    /// VPC or classic (ECS-01).
    pub network_type: InstanceNetworkType,
    /// VPC (VPC instances).
    pub vpc_id: Option<String>,
    /// vSwitch (VPC instances).
    pub vswitch_id: Option<String>,
    /// Security group.
    pub security_group_id: Option<String>,
    /// Instance type, e.g. `ecs.g7.large`.
    pub instance_type: String,
    /// Image.
    pub image_id: String,
    /// Name.
    pub name: String,
    /// Host name.
    pub hostname: String,
    /// Description.
    pub description: String,
    /// Lifecycle status.
    pub status: InstanceStatus,
    /// Where the current task chain is heading.
    pub want_running: bool,
    /// Billing of the static public IP's traffic.
    pub internet_charge_type: InternetChargeType,
    /// Outbound bandwidth of the static public IP (0 = none possible).
    pub internet_max_bandwidth_out: i64,
    /// Static public IP (ECS-04).
    pub public_ip: Option<String>,
    /// Billing of the instance.
    pub charge_type: ChargeType,
    /// vCPUs.
    pub cpu: i64,
    /// Memory in MiB.
    pub memory_mb: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last start time.
    pub started_at: Option<i64>,
}

/// What an association with an ECS instance must know, read in one
/// statement: the instance, its primary private address, and how many EIPs
/// already hold either (ECS-02: one EIP per instance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcsTargetRow {
    /// The instance.
    pub instance: InstanceRow,
    /// The primary ENI's vSwitch and that ENI's primary private IP, when it has both.
    pub primary: Option<(String, String)>,
    /// EIPs associated with the instance itself (`EcsInstance`).
    pub ecs_eips: i64,
    /// EIPs in NAT mode that map the primary private IP (associated with its ENI).
    pub nat_eips_on_primary: i64,
}

/// An elastic network interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EniRow {
    /// `eni-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// Zone.
    pub zone_id: String,
    /// VPC.
    pub vpc_id: String,
    /// vSwitch.
    pub vswitch_id: String,
    /// Attached instance.
    pub instance_id: Option<String>,
    /// Primary or secondary.
    pub kind: EniType,
    /// MAC address.
    pub mac: String,
    /// Available, Attaching, InUse or Detaching.
    pub status: EniStatus,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Security group.
    pub security_group_id: Option<String>,
    /// Creation time.
    pub created_at: i64,
}

/// A private IP taken in a vSwitch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateIpRow {
    /// vSwitch.
    pub vswitch_id: String,
    /// Address.
    pub ip: String,
    /// Holder: an ENI, a NAT gateway's interface, a NAT-mode EIP of a NAT
    /// gateway, a HaVip or a load balancer.
    pub holder_id: String,
    /// Whether it is the ENI's primary address.
    pub is_primary: bool,
}

/// An Elastic IP address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EipRow {
    /// `eip-…` (AllocationId).
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// The address; never changes while the EIP exists (GEN-02).
    pub ip: String,
    /// Lifecycle status.
    pub status: EipStatus,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Mbit/s.
    pub bandwidth: i64,
    /// PostPaid or PrePaid.
    pub charge_type: ChargeType,
    /// PayByBandwidth or PayByTraffic.
    pub internet_charge_type: InternetChargeType,
    /// Line type, e.g. `BGP`.
    pub isp: String,
    /// Always `public`.
    pub netmode: String,
    /// Resource group.
    pub resource_group_id: String,
    /// Allocation time.
    pub allocated_at: i64,
    /// Subscription expiry.
    pub expired_at: Option<i64>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Target kind while associated (or associating/unassociating).
    pub instance_type: Option<AssociatedInstanceType>,
    /// Target id.
    pub instance_id: Option<String>,
    /// Private IP of the target the EIP maps to.
    pub private_ip: Option<String>,
    /// vSwitch of `private_ip`.
    pub private_vswitch_id: Option<String>,
    /// Association mode.
    pub mode: Option<EipMode>,
    /// Target's region.
    pub instance_region_id: Option<String>,
    /// Tags, sorted by key.
    pub tags: Vec<(String, String)>,
    /// Bumped on every update.
    pub version: i64,
}

/// DescribeEipAddresses filters; every `Some`/non-empty field must match.
#[derive(Clone, Debug, Default)]
pub struct EipQuery {
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// AllocationId in this list.
    pub ids: Vec<String>,
    /// Address in this list.
    pub ips: Vec<String>,
    /// Status.
    pub status: Option<EipStatus>,
    /// Associated target kind.
    pub instance_type: Option<AssociatedInstanceType>,
    /// Associated target id.
    pub instance_id: Option<String>,
    /// Billing.
    pub charge_type: Option<ChargeType>,
    /// Line type.
    pub isp: Option<String>,
    /// Exact name.
    pub name: Option<String>,
    /// Resource group.
    pub resource_group_id: Option<String>,
    /// Tags that must all be present (key, value).
    pub tags: Vec<(String, String)>,
    /// Allocated at or after.
    pub created_from: Option<i64>,
    /// Allocated at or before.
    pub created_to: Option<i64>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

/// A scheduled asynchronous transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRow {
    /// Unique id.
    pub id: String,
    /// What to do, e.g. `eip.associate`.
    pub kind: String,
    /// The resource it concerns.
    pub resource_id: String,
    /// When it is due (epoch ms).
    pub due_at: i64,
    /// When it was scheduled.
    pub created_at: i64,
}

/// A remembered ClientToken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// Account.
    pub account_id: String,
    /// Action name.
    pub action: String,
    /// The token.
    pub token: String,
    /// Hash of the request's business parameters.
    pub params_hash: String,
    /// The JSON response body (without RequestId) first returned.
    pub response: String,
    /// When stored.
    pub created_at: i64,
}

/// A NAT gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatGatewayRow {
    /// `ngw-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// VPC.
    pub vpc_id: String,
    /// vSwitch it is deployed in.
    pub vswitch_id: String,
    /// Zone of the vSwitch.
    pub zone_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creating or Available.
    pub status: NatGatewayStatus,
    /// internet or intranet.
    pub network_type: NatNetworkType,
    /// MULTI_BINDED or NAT.
    pub eip_bind_mode: NatEipBindMode,
    /// `stb-…`
    pub snat_table_id: String,
    /// `ftb-…`
    pub forward_table_id: String,
    /// `fulltb-…`
    pub full_nat_table_id: String,
    /// The gateway's own interface.
    pub eni_id: String,
    /// Its address in the vSwitch.
    pub private_ip: String,
    /// Creation time (NAT-03; settable for imports).
    pub created_at: i64,
}

/// An SNAT entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnatEntryRow {
    /// `snat-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Gateway.
    pub nat_gateway_id: String,
    /// Table.
    pub snat_table_id: String,
    /// Comma-separated EIP addresses.
    pub snat_ips: String,
    /// Source vSwitch, when the entry names one.
    pub source_vswitch_id: Option<String>,
    /// Source block (the vSwitch's when it names one).
    pub source_cidr: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_at: i64,
}

/// A DNAT entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardEntryRow {
    /// `fwd-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Gateway.
    pub nat_gateway_id: String,
    /// Table.
    pub forward_table_id: String,
    /// EIP address.
    pub external_ip: String,
    /// Port (or `Any`).
    pub external_port: String,
    /// Private destination.
    pub internal_ip: String,
    /// Port (or `Any`).
    pub internal_port: String,
    /// TCP, UDP or Any.
    pub ip_protocol: IpProtocol,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_at: i64,
}

/// A HaVip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HaVipRow {
    /// `havip-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// VPC.
    pub vpc_id: String,
    /// vSwitch.
    pub vswitch_id: String,
    /// The virtual address.
    pub ip: String,
    /// Creating, Available or InUse.
    pub status: HaVipStatus,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at: i64,
}

/// An instance or ENI a HaVip is associated with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HaVipMemberRow {
    /// HaVip.
    pub havip_id: String,
    /// Instance or ENI id.
    pub instance_id: String,
    /// EcsInstance or NetworkInterface.
    pub instance_type: AssociatedInstanceType,
    /// When associated.
    pub created_at: i64,
}

/// A CLB, ALB or NLB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancerRow {
    /// `lb-…`, `alb-…` or `nlb-…`
    pub id: String,
    /// Owner.
    pub account_id: String,
    /// Region.
    pub region_id: String,
    /// Which product.
    pub kind: LoadBalancerKind,
    /// internet or intranet.
    pub address_type: LbAddressType,
    /// VPC (always for ALB/NLB; CLB with a vSwitch).
    pub vpc_id: Option<String>,
    /// vSwitch (CLB in a VPC).
    pub vswitch_id: Option<String>,
    /// CLB service address (empty for ALB/NLB).
    pub address: String,
    /// Name.
    pub name: String,
    /// CLB spec / ALB edition / NLB type.
    pub spec: String,
    /// CLB `active`; ALB/NLB `Provisioning` or `Active` (shown `Configuring`
    /// while the zone EIPs of an address-type change settle).
    pub status: String,
    /// Creation time.
    pub created_at: i64,
    /// Deletion protection is on: DeleteLoadBalancer is refused.
    pub delete_protection: bool,
    /// CLB: the master zone (the vSwitch's zone in a VPC); `None` for rows
    /// from before migration 7 and for ALB/NLB.
    pub master_zone_id: Option<String>,
}

/// A zone of an ALB or NLB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbZoneRow {
    /// Load balancer.
    pub lb_id: String,
    /// Zone.
    pub zone_id: String,
    /// vSwitch.
    pub vswitch_id: String,
    /// Private address in the vSwitch.
    pub private_ip: String,
    /// The zone's EIP while internet-facing.
    pub allocation_id: Option<String>,
}

/// A CLB TCP listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClbListenerRow {
    /// Load balancer.
    pub lb_id: String,
    /// Listener (frontend) port.
    pub port: i64,
    /// Port on the backend servers.
    pub backend_port: i64,
    /// Peak bandwidth in Mbit/s (-1: unlimited).
    pub bandwidth: i64,
    /// `running` or `stopped`.
    pub status: String,
    /// Health checks on (`HealthCheckSwitch`): the data plane probes each
    /// backend with a TCP connect and stops sending new connections to the
    /// ones that fail.
    pub health_check: bool,
    /// Port probed on the backends (`None`: `backend_port`).
    pub health_check_connect_port: Option<i64>,
    /// Consecutive successes that make an abnormal backend normal (2-10).
    pub healthy_threshold: i64,
    /// Consecutive failures that make a normal backend abnormal (2-10).
    pub unhealthy_threshold: i64,
    /// Seconds a probe may take (1-300).
    pub health_check_connect_timeout: i64,
    /// Seconds between two probes of a backend (1-50).
    pub health_check_interval: i64,
}

impl ClbListenerRow {
    /// The port health checks connect to.
    pub fn health_check_port(&self) -> i64 {
        self.health_check_connect_port.unwrap_or(self.backend_port)
    }
}

/// A CLB backend server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClbBackendRow {
    /// Load balancer.
    pub lb_id: String,
    /// ECS instance id.
    pub server_id: String,
    /// Weight, 0-100.
    pub weight: i64,
}

/// A tag of a resource other than an EIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRow {
    /// Owner of the resource.
    pub account_id: String,
    /// Alibaba's resource type (`VPC`, `VSWITCH`, `NATGATEWAY`, `HAVIP`, ...).
    pub resource_type: String,
    /// The resource.
    pub resource_id: String,
    /// Key.
    pub key: String,
    /// Value (may be empty).
    pub value: String,
}

/// One EIP's cumulative traffic as measured at `at_ms` (the last sample of
/// its minute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficRow {
    /// Allocation id.
    pub eip_id: String,
    /// When it was measured (ms since the epoch).
    pub at_ms: i64,
    /// Bytes received from the internet.
    pub rx_bytes: i64,
    /// Bytes sent to the internet.
    pub tx_bytes: i64,
    /// Packets received.
    pub rx_packets: i64,
    /// Packets sent.
    pub tx_packets: i64,
}

/// A CLB backend server as the active data plane's health checks find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendHealthRow {
    /// The region of the gateway that checks it.
    pub region_id: String,
    /// CLB id.
    pub lb_id: String,
    /// Listener port.
    pub listener_port: i64,
    /// Backend server (instance) id.
    pub server_id: String,
    /// Its state.
    pub health: BackendHealth,
}

/// Which data-plane agent programs a region's gateway, and until when
/// (real wall-clock ms, never the control plane's movable clock). A row that
/// exists at all says the region's EIP and ENI transitions are acknowledged
/// by an agent, not completed by their timers, even while no agent holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The region whose gateway the lease covers.
    pub region_id: String,
    /// The agent holding it (its process-unique id).
    pub holder: String,
    /// When this holder took it.
    pub acquired_at: i64,
    /// When it lapses unless renewed.
    pub expires_at: i64,
}
