// The EIP lifecycle through the official Node.js SDKs (V3 signing, then V1 with
// signatureAlgorithm v2), against the eipd at $EP (demo estate, key testid).
// Prints one line per signer; exits non-zero on any unexpected outcome.
const Vpc = require('@alicloud/vpc20160428');
const Ecs = require('@alicloud/ecs20140526');
const { Config } = require('@alicloud/openapi-core').$OpenApiUtil;
async function main(alg) {
  const cfg = new Config({ accessKeyId: 'testid', accessKeySecret: 'testsecret', endpoint: process.env.EP, protocol: 'http', regionId: 'cn-hangzhou' });
  if (alg) cfg.signatureAlgorithm = alg;
  const vpc = new Vpc.default(cfg), ecs = new Ecs.default(cfg);
  const insts = (await ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: 'cn-hangzhou' }))).body.instances.instance;
  const iid = insts.find(i => i.instanceName === 'demo-2').instanceId;
  const a = (await vpc.allocateEipAddress(new Vpc.AllocateEipAddressRequest({ regionId: 'cn-hangzhou', tag: [new Vpc.AllocateEipAddressRequestTag({key: 'env', value: 'a b*~'})] }))).body;
  await vpc.associateEipAddress(new Vpc.AssociateEipAddressRequest({ regionId: 'cn-hangzhou', allocationId: a.allocationId, instanceId: iid }));
  let st;
  for (let i = 0; i < 100; i++) {
    const d = (await vpc.describeEipAddresses(new Vpc.DescribeEipAddressesRequest({ regionId: 'cn-hangzhou', allocationId: a.allocationId, tag: [new Vpc.DescribeEipAddressesRequestTag({key: 'env', value: 'a b*~'})] }))).body;
    st = d.eipAddresses.eipAddress[0].status; if (st === 'InUse') break; await new Promise(r => setTimeout(r, 50));
  }
  await vpc.unassociateEipAddress(new Vpc.UnassociateEipAddressRequest({ regionId: 'cn-hangzhou', allocationId: a.allocationId }));
  for (let i = 0; i < 100; i++) {
    const d = (await vpc.describeEipAddresses(new Vpc.DescribeEipAddressesRequest({ regionId: 'cn-hangzhou', allocationId: a.allocationId }))).body;
    if (d.eipAddresses.eipAddress[0].status === 'Available') break; await new Promise(r => setTimeout(r, 50));
  }
  await vpc.releaseEipAddress(new Vpc.ReleaseEipAddressRequest({ regionId: 'cn-hangzhou', allocationId: a.allocationId }));
  try { await vpc.associateEipAddress(new Vpc.AssociateEipAddressRequest({ regionId: 'cn-hangzhou', allocationId: 'eip-nope', instanceId: iid })); }
  catch (e) {
    if (e.code !== 'InvalidAllocationId.NotFound' || e.statusCode !== 404) throw e;
    console.log(alg || 'v3', 'error', e.code, e.statusCode);
  }
  if (st !== 'InUse') throw new Error('never InUse: ' + st);
  console.log(alg || 'v3', a.allocationId, a.eipAddress, st);
}
main().then(() => main('v2')).catch(e => { console.error('FAIL', e); process.exit(1); });
