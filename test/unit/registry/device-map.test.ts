import { describe, expect, test } from 'vitest';
import { DeviceMap } from '../../../src/registry/device-map.js';

describe('registry/device-map', () => {
  test('keeps values by tenant and device id, counts them, and forgets an emptied tenant', () => {
    const m = new DeviceMap<number>();
    m.set('t1', 'a', 1);
    m.set('t1', 'b', 2);
    m.set('t2', 'a', 3);
    m.set('t1', 'a', 4); // replaced, not added
    expect([m.get('t1', 'a'), m.get('t2', 'a'), m.get('t2', 'b'), m.size]).toEqual([4, 3, undefined, 3]);
    expect([...m.entries()]).toEqual([['t1', 'a', 4], ['t1', 'b', 2], ['t2', 'a', 3]]);
    expect(m.delete('t2', 'a')).toBe(true);
    expect(m.delete('t2', 'a')).toBe(false);
    expect([...m.values()]).toEqual([4, 2]);
    expect(m.size).toBe(2);
    // A tenant and device id that would collide in a joined key stay apart.
    m.set('t', '1\u0000x', 5);
    m.set('t\u00001', 'x', 6);
    expect([m.get('t', '1\u0000x'), m.get('t\u00001', 'x')]).toEqual([5, 6]);
  });
});
