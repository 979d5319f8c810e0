import { describe, expect, test } from 'vitest';
import { decodeFrame, decodePacketMessage, encodeSubpackaged, Jt808Reassembler, type Jt808Body, type Jt808Packet } from '../../../src/ingest/jt808/index.js';
import { FakeClock } from '../../../src/lib/clock.js';

const BODY: Jt808Body = { type: 'unknown', msgId: 0x0900, raw: Buffer.from(Array.from({ length: 250 }, (_, i) => i)) };

function packets(seq = 100, size = 100): Jt808Packet[] {
  return encodeSubpackaged({ version: 2013, phone: '13912345678', seq }, BODY, size).map((f) => {
    const p = decodeFrame(f);
    if (!p.ok) throw new Error(p.error.message);
    return p.value;
  });
}

describe('ingest/jt808/codec/reassembler', () => {
  test('packets in any order, with a retransmitted one, complete the message once with the first seq', () => {
    const r = new Jt808Reassembler(new FakeClock());
    const [p1, p2, p3] = packets() as [Jt808Packet, Jt808Packet, Jt808Packet];
    expect(r.push(p3).status).toBe('pending');
    expect(r.push(p1).status).toBe('pending');
    expect(r.push(p1).status).toBe('pending'); // retransmission replaces, does not count twice
    const done = r.push(p2);
    if (done.status !== 'complete') throw new Error(done.status);
    expect(done.packet.header).toMatchObject({ seq: 100, bodyLength: 250, msgId: 0x0900 });
    expect(done.packet.header.subpackage).toBeUndefined();
    expect(decodePacketMessage(done.packet)).toEqual({ ok: true, value: { header: done.packet.header, body: BODY } });
    expect(r.size).toBe(0);
  });

  test('the seq may wrap inside a message', () => {
    const r = new Jt808Reassembler(new FakeClock());
    const ps = packets(0xffff);
    expect(ps.map((p) => p.header.seq)).toEqual([0xffff, 0, 1]);
    const results = ps.map((p) => r.push(p).status);
    expect(results).toEqual(['pending', 'pending', 'complete']);
  });

  test('two messages interleaved are kept apart by their first seq', () => {
    const r = new Jt808Reassembler(new FakeClock());
    const a = packets(10);
    const b = packets(20);
    const order = [a[0], b[0], a[1], b[1], b[2], a[2]] as Jt808Packet[];
    expect(order.map((p) => r.push(p).status)).toEqual(['pending', 'pending', 'pending', 'pending', 'complete', 'complete']);
  });

  test('an unsubpackaged packet passes straight through', () => {
    const p = { header: { msgId: 2, version: 2013 as const, phone: '0', seq: 1, bodyLength: 0, encryption: 0 }, body: Buffer.alloc(0) };
    expect(new Jt808Reassembler(new FakeClock()).push(p)).toEqual({ status: 'complete', packet: p });
  });

  test.each([
    { name: 'index 0', total: 3, index: 0 },
    { name: 'index above total', total: 3, index: 4 },
    { name: 'total 0', total: 0, index: 0 },
  ])('$name is bad_subpackage', ({ total, index }) => {
    const [p] = packets();
    const bad = { ...(p as Jt808Packet), header: { ...(p as Jt808Packet).header, subpackage: { total, index } } };
    expect(new Jt808Reassembler(new FakeClock()).push(bad)).toMatchObject({ status: 'error', error: { reason: 'bad_subpackage' } });
  });

  test('an unfinished message expires after timeoutMs (fake clock)', () => {
    const clock = new FakeClock();
    const r = new Jt808Reassembler(clock, { timeoutMs: 1000 });
    const [p1, p2, p3] = packets() as [Jt808Packet, Jt808Packet, Jt808Packet];
    r.push(p1);
    clock.advance(999);
    expect(r.expire()).toBe(0);
    clock.advance(1);
    expect(r.expire()).toBe(1);
    expect(r.push(p2).status).toBe('pending');
    expect(r.push(p3).status).toBe('pending'); // p1 is gone
  });

  test('past maxPending the oldest unfinished message is evicted', () => {
    const r = new Jt808Reassembler(new FakeClock(), { maxPending: 2 });
    const msgs = [packets(10), packets(20), packets(30)];
    for (const m of msgs) r.push(m[0] as Jt808Packet);
    expect(r.size).toBe(2);
    expect(r.push((msgs[0] as Jt808Packet[])[1] as Jt808Packet).status).toBe('pending'); // restarted, not completed
  });
});
