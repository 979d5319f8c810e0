/**
 * 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters from a 31-character set —
 * 1 registration-authority code, 1 organisation-type code, 6-digit administrative-division code (GB/T 2260),
 * 9-character organisation code (GB 11714), 1 check character.
 */

/** GB 32100-2015 §4.2 character set: digits and capital letters without I, O, S, V, Z; index = code value. */
const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const VALUE = new Map<string, number>([...CHARSET].map((c, i) => [c, i]));
/** GB 32100-2015 §5.3: weight of position i (1-based) is 3^(i-1) mod 31. */
const WEIGHTS = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

/** The check character for the first 17 characters, or undefined when one is outside the character set. */
export function usccCheckChar(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = VALUE.get(first17[i] as string);
    if (v === undefined) return undefined;
    sum += v * (WEIGHTS[i] as number);
  }
  // C18 = 31 − MOD(Σ Ci × Wi, 31); a result of 31 is written 0.
  return CHARSET[(31 - (sum % 31)) % 31];
}

/** Why a code is not a valid 统一社会信用代码, or undefined when it is. Expects upper case (normalise first). */
export function usccProblem(code: string): string | undefined {
  if (code.length !== 18) return `must be 18 characters (has ${code.length})`;
  const bad = [...code].findIndex((c) => !VALUE.has(c));
  if (bad >= 0) return `character ${bad + 1} ('${code[bad]}') is not allowed: use 0–9 and A–Y without I, O, S, V, Z`;
  if (!/^\d{6}$/.test(code.slice(2, 8))) return 'characters 3–8 must be the 6-digit administrative-division code (GB/T 2260)';
  const want = usccCheckChar(code.slice(0, 17));
  if (code[17] !== want) return `check character is '${code[17]}', GB 32100-2015 gives '${want}' for the first 17 characters`;
  return undefined;
}

/** True when the code is a well-formed 统一社会信用代码 with a correct check character. */
export function isValidUscc(code: string): boolean {
  return usccProblem(code) === undefined;
}
