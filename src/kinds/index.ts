import { dustKind } from './dust.js';
import { electricalFireKind } from './electrical-fire.js';
import { gasKind } from './gas.js';
import type { KindDefinition, KindName } from './kind.js';
import { smokeKind } from './smoke.js';
import { vehicleKind } from './vehicle.js';

/** Every device kind riskgate accepts, by wire name (domain.md §0). */
export const KINDS: Record<KindName, KindDefinition> = {
  gas: gasKind,
  dust: dustKind,
  electrical_fire: electricalFireKind,
  smoke: smokeKind,
  vehicle: vehicleKind,
};

/** The definition of a kind: always found for a {@link KindName}, `undefined` for any other string. */
export function getKind(name: KindName): KindDefinition;
export function getKind(name: string): KindDefinition | undefined;
export function getKind(name: string): KindDefinition | undefined {
  return Object.hasOwn(KINDS, name) ? KINDS[name as KindName] : undefined;
}
