import { describe, expect, test } from 'vitest';
import { EventBus } from '../../../src/lib/event-bus.js';

interface TestEvents {
  readingAccepted: { id: number };
  batchWritten: number;
}

describe('lib/event-bus', () => {
  test('listeners receive each event in registration order', () => {
    const bus = new EventBus<TestEvents>();
    const calls: string[] = [];
    const owner = {};
    bus.on('readingAccepted', owner, (p) => calls.push(`a${p.id}`));
    bus.on('readingAccepted', owner, (p) => calls.push(`b${p.id}`));
    bus.on('batchWritten', owner, (n) => calls.push(`w${n}`));
    bus.emit('readingAccepted', { id: 1 });
    bus.emit('batchWritten', 7);
    bus.emit('readingAccepted', { id: 2 });
    expect(calls).toEqual(['a1', 'b1', 'w7', 'a2', 'b2']);
  });

  test('emitting an event nobody listens to does nothing', () => {
    expect(() => new EventBus<TestEvents>().emit('batchWritten', 1)).not.toThrow();
  });

  test('removeOwner removes every listener of that owner and only those', () => {
    const bus = new EventBus<TestEvents>();
    const calls: string[] = [];
    const ingest = {};
    const stream = {};
    bus.on('readingAccepted', ingest, () => calls.push('ingest'));
    bus.on('batchWritten', ingest, () => calls.push('ingest-batch'));
    bus.on('readingAccepted', stream, () => calls.push('stream'));
    bus.removeOwner(ingest);
    bus.emit('readingAccepted', { id: 1 });
    bus.emit('batchWritten', 1);
    expect(calls).toEqual(['stream']);
  });

  test('removeOwner of an owner with no listeners changes nothing', () => {
    const bus = new EventBus<TestEvents>();
    const calls: number[] = [];
    bus.on('batchWritten', {}, (n) => calls.push(n));
    bus.removeOwner({});
    bus.emit('batchWritten', 3);
    expect(calls).toEqual([3]);
  });

  test('off removes one listener', () => {
    const bus = new EventBus<TestEvents>();
    const calls: string[] = [];
    const owner = {};
    const a = (): void => void calls.push('a');
    bus.on('batchWritten', owner, a);
    bus.on('batchWritten', owner, () => calls.push('b'));
    bus.off('batchWritten', a);
    bus.emit('batchWritten', 1);
    expect(calls).toEqual(['b']);
  });

  test('a throwing listener is reported and does not stop the others', () => {
    const errors: [keyof TestEvents, unknown][] = [];
    const bus = new EventBus<TestEvents>((event, err) => errors.push([event, err]));
    const calls: string[] = [];
    const owner = {};
    const boom = new Error('boom');
    bus.on('readingAccepted', owner, () => calls.push('before'));
    bus.on('readingAccepted', owner, () => {
      throw boom;
    });
    bus.on('readingAccepted', owner, () => calls.push('after'));
    expect(() => bus.emit('readingAccepted', { id: 1 })).not.toThrow();
    expect(calls).toEqual(['before', 'after']);
    expect(errors).toEqual([['readingAccepted', boom]]);
  });

  test('without an error handler a throwing listener is swallowed', () => {
    const bus = new EventBus<TestEvents>();
    const calls: number[] = [];
    bus.on('batchWritten', {}, () => {
      throw new Error('boom');
    });
    bus.on('batchWritten', {}, (n) => calls.push(n));
    expect(() => bus.emit('batchWritten', 5)).not.toThrow();
    expect(calls).toEqual([5]);
  });

  test('a listener that removes its owner while the event is emitted does not skip the others', () => {
    const bus = new EventBus<TestEvents>();
    const calls: string[] = [];
    const first = {};
    bus.on('batchWritten', first, () => {
      calls.push('first');
      bus.removeOwner(first);
    });
    bus.on('batchWritten', {}, () => calls.push('second'));
    bus.emit('batchWritten', 1);
    bus.emit('batchWritten', 2);
    expect(calls).toEqual(['first', 'second', 'second']);
  });
});
