// The NTLM package settings (PackageSettings of the configuration entry "ntlm"): defaults, the
// values each setting takes, and a clear error naming a bad one.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SETTINGS, NtlmSettingsError, parseSettings } from '../../../packages/ntlm/settings.js';

describe('NTLM settings', () => {
  test('default to LmCompatibilityLevel 5, bindings not required, a 36-hour skew window and no fixed values', () => {
    assert.deepEqual(parseSettings({}), DEFAULT_SETTINGS);
    assert.deepEqual(DEFAULT_SETTINGS, {
      lmCompatibilityLevel: 5,
      requireChannelBindings: false,
      maxClockSkewSeconds: 129600,
      fixedServerChallenge: undefined,
      fixedTime: undefined,
    });
  });

  test('take every LmCompatibilityLevel from 0 to 5, a boolean, seconds, a 16-digit challenge and an ISO date', () => {
    for (const level of [0, 1, 2, 3, 4, 5] as const) assert.equal(parseSettings({ lmCompatibilityLevel: level }).lmCompatibilityLevel, level);
    const parsed = parseSettings({
      requireChannelBindings: true,
      maxClockSkewSeconds: 0,
      fixedServerChallenge: '0123456789ABCDEF',
      fixedTime: '2024-01-02T03:04:05Z',
    });
    assert.equal(parsed.requireChannelBindings, true);
    assert.equal(parsed.maxClockSkewSeconds, 0);
    assert.deepEqual(parsed.fixedServerChallenge, Uint8Array.of(0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef));
    assert.equal(parsed.fixedTime?.toISOString(), '2024-01-02T03:04:05.000Z');
  });

  test('refuse an unknown key and each bad value with an NtlmSettingsError naming the setting', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ LmCompatibilityLevel: 5 }, /unknown NTLM setting "LmCompatibilityLevel"/],
      [{ lmCompatibilityLevel: 6 }, /lmCompatibilityLevel must be an integer from 0 to 5/],
      [{ lmCompatibilityLevel: '5' }, /lmCompatibilityLevel/],
      [{ requireChannelBindings: 'yes' }, /requireChannelBindings must be true or false/],
      [{ maxClockSkewSeconds: -1 }, /maxClockSkewSeconds must be a number/],
      [{ maxClockSkewSeconds: Number.POSITIVE_INFINITY }, /maxClockSkewSeconds/],
      [{ fixedServerChallenge: '0123' }, /fixedServerChallenge must be 16 hex digits/],
      [{ fixedTime: 'yesterday' }, /fixedTime must be an ISO date/],
    ];
    for (const [raw, message] of cases) {
      assert.throws(
        () => parseSettings(raw),
        (error: unknown) => error instanceof NtlmSettingsError && error.code === 'BAD_SETTING' && message.test(error.message),
        JSON.stringify(raw),
      );
    }
  });
});
