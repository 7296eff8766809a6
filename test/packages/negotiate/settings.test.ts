// The Negotiate package settings (PackageSettings of the configuration entry "negotiate"): the
// default, the one setting, and a clear error naming a bad one; and a machine that will not boot
// with one, saying why.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Machine } from '../../../machine/machine.js';
import { DEFAULT_NEGOTIATE_SETTINGS, NegotiateSettingsError, parseNegotiateSettings } from '../../../packages/negotiate/settings.js';

describe('Negotiate settings', () => {
  test('default to allowing the fallback to NTLM, as Windows does', () => {
    assert.deepEqual(parseNegotiateSettings({}), DEFAULT_NEGOTIATE_SETTINGS);
    assert.deepEqual(DEFAULT_NEGOTIATE_SETTINGS, { allowNtlmFallback: true });
    assert.equal(parseNegotiateSettings({ allowNtlmFallback: false }).allowNtlmFallback, false);
  });

  test('refuse an unknown key and a value that is not a boolean, with a NegotiateSettingsError naming the setting', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ AllowNtlmFallback: false }, /unknown Negotiate setting "AllowNtlmFallback"/],
      [{ allowNtlmFallback: 'no' }, /allowNtlmFallback must be true or false, not "no"/],
      [{ allowNtlmFallback: 0 }, /allowNtlmFallback must be true or false/],
    ];
    for (const [raw, message] of cases)
      assert.throws(
        () => parseNegotiateSettings(raw),
        (error: unknown) => error instanceof NegotiateSettingsError && error.code === 'BAD_SETTING' && message.test(error.message),
        JSON.stringify(raw),
      );
  });

  test('a machine given a bad one does not boot: the package failed at SpInitialize, naming the setting', async () => {
    await assert.rejects(
      Machine.boot({ packages: ['negotiate', 'ntlm'], accounts: [], trace: false, packageSettings: { negotiate: { allowNtlmFallback: 'no' } } }),
      /negotiate\[0\]: SpInitialize threw: NegotiateSettingsError: allowNtlmFallback must be true or false, not "no"/,
    );
  });
});
