/**
 * Values by (tenant, device id), one map per tenant: no key string per entry (`${tenant}\0${deviceId}` cost ~0.1 KB
 * per device and map, and building it on every lookup was a measurable part of the hot path — issue 9). Pass the
 * registry record's strings as keys, so that the entries share them with the record.
 */
export class DeviceMap<V> {
  private readonly byTenant = new Map<string, Map<string, V>>();
  private count = 0;

  get(tenant: string, deviceId: string): V | undefined {
    return this.byTenant.get(tenant)?.get(deviceId);
  }

  set(tenant: string, deviceId: string, value: V): void {
    let ofTenant = this.byTenant.get(tenant);
    if (!ofTenant) this.byTenant.set(tenant, (ofTenant = new Map()));
    const size = ofTenant.size;
    ofTenant.set(deviceId, value);
    this.count += ofTenant.size - size;
  }

  delete(tenant: string, deviceId: string): boolean {
    const ofTenant = this.byTenant.get(tenant);
    if (!ofTenant?.delete(deviceId)) return false;
    this.count--;
    if (ofTenant.size === 0) this.byTenant.delete(tenant);
    return true;
  }

  clear(): void {
    this.byTenant.clear();
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }

  /** Tenant by tenant, each in insertion order. */
  *entries(): IterableIterator<[tenant: string, deviceId: string, value: V]> {
    for (const [tenant, ofTenant] of this.byTenant) for (const [deviceId, value] of ofTenant) yield [tenant, deviceId, value];
  }

  *values(): IterableIterator<V> {
    for (const ofTenant of this.byTenant.values()) yield* ofTenant.values();
  }
}
