import { describe, expect, test } from 'vitest';
import { isValidUscc, usccCheckChar, usccProblem } from '../../../src/registry/uscc.js';

// Published codes of well-known enterprises (business licences / 国家企业信用信息公示系统).
const VALID = [
  { code: '91350100M000100Y43', who: 'the example commonly cited for GB 32100-2015' },
  { code: '9144030071526726XG', who: '腾讯科技（深圳）有限公司' },
  { code: '914403001922038216', who: '华为技术有限公司' },
  { code: '91330100716105852F', who: 'a Hangzhou enterprise (check character F)' },
];

describe('registry/uscc', () => {
  test.each(VALID)('$code ($who) is valid', ({ code }) => {
    expect(usccProblem(code)).toBeUndefined();
    expect(isValidUscc(code)).toBe(true);
  });

  test('the check character is 31 − (Σ value × 3^(i−1) mod 31) mod 31, over the 31-character set', () => {
    // 9 1 3 5 0 1 0 0 M 0 0 0 1 0 0 Y 4 → M = 21, Y = 30 in 0123456789ABCDEFGHJKLMNPQRTUWXY.
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
    expect(usccCheckChar('9144030071526726X')).toBe('G');
  });

  test.each([
    { code: '91350100M000100Y44', want: /check character is '4', GB 32100-2015 gives '3'/ },
    { code: '91350100M000100Y4', want: /must be 18 characters \(has 17\)/ },
    { code: '91350100M0001O0Y43', want: /character 14 \('O'\) is not allowed/ },
    { code: '9135010IM000100Y43', want: /character 8 \('I'\) is not allowed/ },
    { code: '91AB0100M000100Y43', want: /characters 3–8 must be the 6-digit administrative-division code/ },
    { code: '91350100m000100y43', want: /character 9 \('m'\) is not allowed/ },
  ])('$code is rejected: $want', ({ code, want }) => {
    expect(usccProblem(code)).toMatch(want);
    expect(isValidUscc(code)).toBe(false);
  });

  test('a single changed character is always caught', () => {
    const code = '914403001922038216';
    for (let i = 0; i < 17; i++) {
      const c = code[i] === '0' ? '1' : '0';
      expect(isValidUscc(code.slice(0, i) + c + code.slice(i + 1)), `position ${i + 1}`).toBe(false);
    }
  });
});
