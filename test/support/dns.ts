// A small authoritative DNS server on 127.0.0.1 (UDP) for the prober's tests: A records with a TTL,
// NXDOMAIN for any other name; it counts the questions it was asked. Answers can change while it runs.
// RFC 1035 §4: header, one question, answers with a name pointer (0xc00c) to the question.
import dgram from 'node:dgram';

export interface TestDns { port: number; server: string; queries: number; set(name: string, addrs: string[], ttl: number): void; close(): Promise<void> }

export async function startDns(): Promise<TestDns> {
  const zone = new Map<string, { addrs: string[]; ttl: number }>();
  const sock = dgram.createSocket('udp4');
  const dns: TestDns = {
    port: 0, server: '', queries: 0,
    set: (name, addrs, ttl) => { zone.set(name.toLowerCase(), { addrs, ttl }); },
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    dns.queries++;
    // the question: labels up to the zero byte, then QTYPE and QCLASS
    let off = 12;
    const labels: string[] = [];
    while (off < msg.length && msg[off] !== 0) { labels.push(msg.toString('latin1', off + 1, off + 1 + msg[off])); off += msg[off] + 1; }
    const qEnd = off + 5;
    const qtype = msg.readUInt16BE(off + 1);
    const rec = zone.get(labels.join('.').toLowerCase());
    const answers = rec && qtype === 1 ? rec.addrs : [];
    const head = Buffer.alloc(12);
    msg.copy(head, 0, 0, 2); // the id
    head.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (rec ? 0 : 3), 2); // QR, AA, RD copied, NXDOMAIN when unknown
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((a) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(1, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(rec!.ttl, 6); rr.writeUInt16BE(4, 10);
      a.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
      return rr;
    });
    sock.send(Buffer.concat([head, msg.subarray(12, qEnd), ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  dns.port = sock.address().port;
  dns.server = `127.0.0.1:${dns.port}`;
  return dns;
}
