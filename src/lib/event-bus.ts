type Listener<T> = (payload: T) => void;

/**
 * A typed, synchronous event bus. Listeners are registered with an owner so a component removes all of its own
 * listeners on `stop()` (zigbee2mqtt's eventBus pattern). A throwing listener is reported, not propagated.
 */
export class EventBus<M extends object> {
  private readonly listeners = new Map<keyof M, { owner: object; fn: Listener<never> }[]>();
  private readonly onListenerError: (event: keyof M, err: unknown) => void;

  constructor(onListenerError: (event: keyof M, err: unknown) => void = () => {}) {
    this.onListenerError = onListenerError;
  }

  on<K extends keyof M>(event: K, owner: object, fn: Listener<M[K]>): void {
    const list = this.listeners.get(event) ?? [];
    list.push({ owner, fn: fn as Listener<never> });
    this.listeners.set(event, list);
  }

  off<K extends keyof M>(event: K, fn: Listener<M[K]>): void {
    const list = this.listeners.get(event);
    if (list) this.listeners.set(event, list.filter((l) => l.fn !== (fn as Listener<never>)));
  }

  removeOwner(owner: object): void {
    for (const [event, list] of this.listeners) this.listeners.set(event, list.filter((l) => l.owner !== owner));
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const l of list) {
      try {
        (l.fn as Listener<M[K]>)(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }
}
