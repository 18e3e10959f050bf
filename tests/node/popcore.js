// @alicloud/pop-core, the generic RPC client Node scripts use, against the
// eipd at $EP (demo estate, key testid): the EIP lifecycle by action name,
// GET and POST, and an error as pop-core raises it. Prints one JSON line.
const RPCClient = require('@alicloud/pop-core').RPCClient;
const client = (apiVersion) => new RPCClient({
  accessKeyId: 'testid', accessKeySecret: 'testsecret', endpoint: 'http://' + process.env.EP, apiVersion,
});
const sleep = (ms) => new Promise(r => setTimeout(r, ms));
async function main() {
  const vpc = client('2016-04-28'), ecs = client('2014-05-26');
  const out = {};
  const insts = await ecs.request('DescribeInstances', { RegionId: 'cn-hangzhou' });
  const iid = insts.Instances.Instance.find(i => i.InstanceName === 'demo-2').InstanceId;
  const a = await vpc.request('AllocateEipAddress', { RegionId: 'cn-hangzhou', Bandwidth: '5' }, { method: 'POST' });
  out.allocated = a.AllocationId;
  await vpc.request('AssociateEipAddress', { RegionId: 'cn-hangzhou', AllocationId: a.AllocationId, InstanceId: iid });
  for (let i = 0; i < 200; i++) {
    const d = await vpc.request('DescribeEipAddresses', { RegionId: 'cn-hangzhou', AllocationId: a.AllocationId });
    out.status = d.EipAddresses.EipAddress[0].Status;
    if (out.status === 'InUse') break;
    await sleep(50);
  }
  out.instance = (await ecs.request('DescribeInstanceAttribute', { InstanceId: iid })).EipAddress.AllocationId;
  await vpc.request('UnassociateEipAddress', { RegionId: 'cn-hangzhou', AllocationId: a.AllocationId }, { method: 'POST' });
  for (let i = 0; i < 200; i++) {
    const d = await vpc.request('DescribeEipAddresses', { RegionId: 'cn-hangzhou', AllocationId: a.AllocationId });
    if (d.EipAddresses.EipAddress[0].Status === 'Available') break;
    await sleep(50);
  }
  await vpc.request('ReleaseEipAddress', { RegionId: 'cn-hangzhou', AllocationId: a.AllocationId });
  try {
    await vpc.request('ReleaseEipAddress', { RegionId: 'cn-hangzhou', AllocationId: 'eip-' + '0'.repeat(22) });
  } catch (e) {
    out.error = e.code;
  }
  console.log(JSON.stringify(out));
}
main().catch(e => { console.error('FAIL', e.code || '', e.message); process.exit(1); });
