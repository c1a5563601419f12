// Pure parts of the lab, table-tested: topology, node objects, ACL evaluation, Query parsing.
import { expect } from 'chai';
import { initialNodes, nodeSpec, parseProviderID, RUNTIME_VERSIONS } from '../../lab/topology.js';
import { nodeObject } from '../../lab/manifests.js';
import { aclAllows, cidrContains, type NetworkAcl } from '../../lab/aws/model.js';
import { ec2Filters, listParam, parseQuery, xml } from '../../lab/aws/wire.js';
import { parseTiming } from '../../lab/timing.js';

describe('lab units', () => {
  it('lays out N nodes per zone with providerIDs that round-trip', () => {
    const nodes = initialNodes('c', 3);
    expect(nodes).to.have.length(9);
    expect(new Set(nodes.map((n) => n.instanceId)).size).to.equal(9);
    for (const n of nodes) expect(parseProviderID(n.providerID)).to.deep.equal({ zone: n.zone, instanceId: n.instanceId });
    expect(nodeSpec('c', 1, 0).name).to.equal('ip-10-0-2-10.ec2.internal');
    expect(() => initialNodes('c', 0)).to.throw(/--nodes-per-zone/);
    expect(parseProviderID('gce://p/z/n')).to.equal(undefined);
  });

  it('nodes report the runtime chosen with --runtime', () => {
    for (const rt of ['containerd', 'docker'] as const) {
      expect(nodeObject(nodeSpec('c', 0, 0, rt)).status!.nodeInfo!.containerRuntimeVersion).to.equal(RUNTIME_VERSIONS[rt]);
    }
    expect(RUNTIME_VERSIONS.docker).to.match(/^docker:\/\//);
  });

  it('evaluates network ACL rules lowest number first, * denies', () => {
    const acl: NetworkAcl = { id: 'acl-1', vpcId: 'v', isDefault: false, associations: new Map(), entries: [
      { ruleNumber: 200, protocol: '-1', ruleAction: 'allow', egress: false, cidrBlock: '0.0.0.0/0' },
      { ruleNumber: 100, protocol: '6', ruleAction: 'deny', egress: false, cidrBlock: '10.0.0.0/8', portRange: { from: 443, to: 443 } },
    ] };
    const table: Array<[boolean, 'tcp' | 'udp', number, string, boolean]> = [
      [false, 'tcp', 443, '10.1.2.3', false], // rule 100 denies
      [false, 'tcp', 80, '10.1.2.3', true], // falls to 200
      [false, 'udp', 443, '10.1.2.3', true], // protocol mismatch on 100
      [true, 'tcp', 443, '8.8.8.8', false], // no egress rule: *
    ];
    for (const [egress, proto, port, ip, want] of table) expect(aclAllows(acl, egress, proto, port, ip), `${egress} ${proto} ${port} ${ip}`).to.equal(want);
    expect(cidrContains('10.0.1.0/24', '10.0.1.255')).to.equal(true);
    expect(cidrContains('10.0.1.0/24', '10.0.2.0')).to.equal(false);
    expect(cidrContains('0.0.0.0/0', '1.2.3.4')).to.equal(true);
  });

  it('parses Query lists and filters, and writes EC2 XML lists as items', () => {
    const p = parseQuery('Action=X&InstanceId.2=b&InstanceId.1=a&Filter.1.Name=tag%3AName&Filter.1.Value.1=x&Filter.1.Value.2=y');
    expect(listParam(p, 'InstanceId')).to.deep.equal(['a', 'b']);
    expect(ec2Filters(p)).to.deep.equal([{ name: 'tag:Name', values: ['x', 'y'] }]);
    expect(xml({ set: [{ a: 1 }, { a: '<&>' }] }, 'item')).to.equal('<set><item><a>1</a></item><item><a>&lt;&amp;&gt;</a></item></set>');
  });

  it('refuses unknown timing profiles', () => {
    expect(parseTiming('upstream').tolerationSeconds).to.equal(300);
    expect(() => parseTiming('slow')).to.throw('--timing must be "fast" or "upstream", got "slow"');
  });
});
