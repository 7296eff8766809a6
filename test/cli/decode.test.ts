// `sspi-emu decode`: NTLM messages, SPNEGO tokens and Kerberos messages field by field from base64, hex or stdin, as text or JSON;
// invalid input exits 1 naming the offset, usage errors exit 2. And `run --package ntlm --json`
// carrying the decoded tokens beside the base64.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeApRequest } from '../../packages/kerberos/ap-exchange.js';
import { makeRandomKey } from '../../packages/kerberos/crypto/index.js';
import { GSS_C } from '../../packages/kerberos/gss-checksum.js';
import type { CachedTicket } from '../../packages/kerberos/tickets.js';
import { kdcTickets } from '../helpers/kdc-tickets.js';
import { CLI, Program } from '../helpers/sockets.js';
import { NTLMV2, SAMBA_NEGOTIATE, WIN2008R2, toHex } from '../packages/ntlm/vectors.js';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';
import { MECH_OID, NEG_STATE, packNegTokenInit, packNegTokenResp } from '../../packages/negotiate/wire.js';
import { hexBytes, SAMBA_NEG_TOKEN_INIT, WINDOWS_NEG_TOKEN_INIT2 } from '../packages/negotiate/vectors.js';
import * as KRB from '../packages/kerberos/messages/vectors.js';

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

describe('sspi-emu decode', () => {
  test('prints a base64 CHALLENGE_MESSAGE field by field: flags by name, target info pairs by name', async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', base64(NTLMV2.challengeMessage)]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^CHALLENGE_MESSAGE \(104 bytes\)\n/);
    assert.match(stdout, /value: 0xe28a8233/);
    assert.match(stdout, /- NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY\n/);
    assert.match(stdout, /serverChallenge: 0123456789abcdef/);
    assert.match(stdout, /- id: MsvAvNbDomainName\n\s+value: Domain/);
    assert.match(stdout, /version: 6\.0 \(build 6000\), NTLM revision 15/);
  });

  test('prints a hex AUTHENTICATE_MESSAGE with its names, NTLMv2 response, channel bindings and MIC', async () => {
    const { code, stdout } = await sspiEmu(['decode', toHex(WIN2008R2.authenticateMessage)]);
    assert.equal(code, 0);
    assert.match(stdout, /^AUTHENTICATE_MESSAGE \(552 bytes\)/);
    assert.match(stdout, /userName: Administrator/);
    assert.match(stdout, /kind: NTLMv2/);
    assert.match(stdout, new RegExp(`ntProofStr: ${WIN2008R2.ntProofStr}`));
    assert.match(stdout, new RegExp(`- id: MsvAvChannelBindings\\n\\s+value: ${WIN2008R2.channelBindings}`));
    assert.match(stdout, /- MIC_PRESENT/);
    assert.match(stdout, new RegExp(`mic: ${WIN2008R2.mic}`));
  });

  test('reads the token from stdin with -, also as an HTTP header value, and prints JSON with --json', async () => {
    const { code, stdout } = await sspiEmu(['decode', '-', '--json'], { input: `NTLM ${base64(SAMBA_NEGOTIATE)}\n` });
    assert.equal(code, 0);
    const description = JSON.parse(stdout) as { type: string; length: number; flags: { value: string; names: string[] } };
    assert.equal(description.type, 'NEGOTIATE_MESSAGE');
    assert.equal(description.length, 40);
    assert.equal(description.flags.value, '0x62088235');
    assert.ok(description.flags.names.includes('NTLMSSP_NEGOTIATE_KEY_EXCH'));
  });

  test('a truncated message exits 1 naming the code and the byte offset', async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', base64(NTLMV2.challengeMessage.subarray(0, 30))]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /not a valid NTLM message: .*\(TRUNCATED at byte offset 30 of 30\)/);
  });

  test('an AV pair list without MsvAvEOL exits 1 pointing at where the list ends', async () => {
    const cut = Uint8Array.from(NTLMV2.challengeMessage);
    cut[40] = 32; // TargetInfoFields.Len: 36 -> 32, dropping MsvAvEOL
    const { code, stderr } = await sspiEmu(['decode', base64(cut)]);
    assert.equal(code, 1);
    assert.match(stderr, /without MsvAvEOL \(BAD_AV_PAIRS at byte offset 100 of 104\)/);
  });

  test('bytes that are not NTLM exit 1 with the first differing byte', async () => {
    const { code, stderr } = await sspiEmu(['decode', base64(Buffer.from('HTTP/1.1 200 OK'))]);
    assert.equal(code, 1);
    assert.match(stderr, /BAD_SIGNATURE at byte offset 0/);
  });

  test('reads text that is valid hex as hex, before base64: 00ff is two bytes, not the three base64 makes of it', async () => {
    const { code, stderr } = await sspiEmu(['decode', '00ff']);
    assert.equal(code, 1);
    assert.match(stderr, /\(BAD_SIGNATURE at byte offset 0 of 2\)$/m);
    // And base64 that is not hex is still base64.
    const b64 = await sspiEmu(['decode', 'AP8=']);
    assert.match(b64.stderr, /\(BAD_SIGNATURE at byte offset 0 of 2\)$/m);
  });

  test('text that is neither base64 nor hex exits 1 saying so', async () => {
    const { code, stderr } = await sspiEmu(['decode', 'not a token!']);
    assert.equal(code, 1);
    assert.match(stderr, /neither base64 nor hex/);
  });

  test('no token, two tokens, or an unknown option are usage errors: one line and a hint', async () => {
    for (const args of [['decode'], ['decode', 'a', 'b'], ['decode', '--xml', 'a']]) assertUsageError(await sspiEmu(args), 'decode');
  });
});

describe('sspi-emu decode, SPNEGO', () => {
  test("prints Samba's NegTokenInit (hex) with the NTLM NEGOTIATE inside decoded", async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', SAMBA_NEG_TOKEN_INIT]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^NegTokenInit \(74 bytes\)\n  framing: InitialContextToken, 1\.3\.6\.1\.5\.5\.2 \(SPNEGO\)\n/);
    assert.match(stdout, /- 1\.3\.6\.1\.4\.1\.311\.2\.2\.10 \(NTLMSSP\)/);
    assert.match(stdout, /mechToken: 40 bytes, NTLMSSP\n    NEGOTIATE_MESSAGE \(40 bytes\)/);
    assert.match(stdout, /value: 0x62088235/);
  });

  test("prints Windows' NegTokenInit2 (base64, as a Negotiate header) with its five mechanisms and the hint name", async () => {
    const { code, stdout } = await sspiEmu(['decode', `Negotiate ${base64(hexBytes(WINDOWS_NEG_TOKEN_INIT2))}`]);
    assert.equal(code, 0);
    assert.match(stdout, /^NegTokenInit2 \(120 bytes\)/);
    assert.match(stdout, /- 1\.2\.840\.48018\.1\.2\.2 \(MS Kerberos 5\)/);
    assert.match(stdout, /hintName: not_defined_in_RFC4178@please_ignore/);
  });

  test('prints a NegTokenResp as JSON with --json: negState by name, the CHALLENGE inside decoded', async () => {
    const token = packNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: MECH_OID.NTLMSSP, responseToken: NTLMV2.challengeMessage });
    const { code, stdout } = await sspiEmu(['decode', base64(token), '--json']);
    assert.equal(code, 0);
    const description = JSON.parse(stdout) as {
      type: string;
      negState: string;
      supportedMech: string;
      responseToken: { mechanism: string; decoded: { type: string } };
    };
    assert.equal(description.type, 'NegTokenResp');
    assert.equal(description.negState, '1 (accept-incomplete)');
    assert.equal(description.supportedMech, '1.3.6.1.4.1.311.2.2.10 (NTLMSSP)');
    assert.equal(description.responseToken.mechanism, 'NTLMSSP');
    assert.equal(description.responseToken.decoded.type, 'CHALLENGE_MESSAGE');
  });

  test('a SPNEGO token cut short exits 1 naming the DER code and the byte offset', async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', SAMBA_NEG_TOKEN_INIT.slice(0, 60)]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /not a valid SPNEGO token: .*\(BAD_LENGTH at byte offset 1 of 30\)/);
  });
});

describe('sspi-emu run --package ntlm', () => {
  test('loads the built-in NTLM package, authenticates, and --json events carry the decoded NTLM tokens', async () => {
    const { code, stdout, stderr } = await sspiEmu(['run', '--package', 'ntlm', '--json', '--messages', '2']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as {
      status: string;
      events: Array<{
        process: string;
        call: string;
        phase: string;
        tokenIn?: string;
        tokenOut?: string;
        tokenInDecoded?: { type: string };
        tokenOutDecoded?: { type: string };
      }>;
    };
    assert.equal(report.status, 'SEC_E_OK');
    const decoded = report.events.flatMap((e) => [
      ...(e.tokenOutDecoded ? [`${e.process} out ${e.tokenOutDecoded.type}`] : []),
      ...(e.tokenInDecoded ? [`${e.process} in ${e.tokenInDecoded.type}`] : []),
    ]);
    for (const expected of [
      'client out NEGOTIATE_MESSAGE',
      'server in NEGOTIATE_MESSAGE',
      'server out CHALLENGE_MESSAGE',
      'client in CHALLENGE_MESSAGE',
      'client out AUTHENTICATE_MESSAGE',
      'server in AUTHENTICATE_MESSAGE',
    ]) {
      assert.ok(decoded.includes(expected), `${expected} in ${JSON.stringify(decoded)}`);
    }
    for (const e of report.events) if (e.tokenInDecoded) assert.ok(e.tokenIn !== undefined, 'the base64 stays beside the decoded form');
  });

  test('with a wrong password exits 1 with SEC_E_LOGON_DENIED', async () => {
    const { code, stdout } = await sspiEmu(['run', '--package', 'NTLM', '--password', 'wrong', '--quiet']);
    assert.equal(code, 1);
    assert.match(stdout, /^SEC_E_LOGON_DENIED/m);
  });
});

describe('sspi-emu run --package Negotiate', () => {
  test('authenticates with NTLM under SPNEGO, and --json events carry the SPNEGO tokens decoded with NTLM inside', async () => {
    const { code, stdout, stderr } = await sspiEmu(['run', '--package', 'Negotiate', '--json', '--messages', '1']);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as {
      status: string;
      events: Array<{
        process: string;
        call: string;
        tokenOutDecoded?: { type: string; mechToken?: { decoded?: { type: string } }; responseToken?: { decoded?: { type: string } } };
      }>;
    };
    assert.equal(report.status, 'SEC_E_OK');
    const out = report.events
      .filter((e) => e.tokenOutDecoded !== undefined)
      .map((e) => `${e.process} ${e.tokenOutDecoded!.type} ${(e.tokenOutDecoded!.mechToken ?? e.tokenOutDecoded!.responseToken)?.decoded?.type ?? '-'}`);
    assert.deepEqual(out, [
      'client NegTokenInit NEGOTIATE_MESSAGE',
      'server NegTokenResp CHALLENGE_MESSAGE',
      'client NegTokenResp AUTHENTICATE_MESSAGE',
      'server NegTokenResp -',
    ]);
  });
});

describe('sspi-emu decode, Kerberos', () => {
  test("prints MIT's AS-REQ field by field: options by name, names, etypes, padata", async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', KRB.AS_REQ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Kerberos AS-REQ \(171 bytes\)\n/);
    assert.match(stdout, /kdcOptions: 0x00000010 \(RENEWABLE_OK\)/);
    assert.match(stdout, /cname: alice \(1 \(KRB_NT_PRINCIPAL\)\)/);
    assert.match(stdout, /sname: krbtgt\/EXAMPLE\.TEST \(2 \(KRB_NT_SRV_INST\)\)/);
    assert.match(stdout, /type: 149 \(PA-REQ-ENC-PA-REP\)/);
  });

  test('prints the PREAUTH_REQUIRED error with its ETYPE-INFO2 as JSON, and an AS-REP with its parts left encrypted', async () => {
    const error = await sspiEmu(['decode', base64(hexBytes(KRB.PREAUTH_REQUIRED)), '--json']);
    assert.equal(error.code, 0, error.stderr);
    const described = JSON.parse(error.stdout) as { type: string; errorCode: string; eText: string; eData: { methodData: Array<{ type: string; value: unknown }> } };
    assert.equal(described.type, 'KRB-ERROR');
    assert.equal(described.errorCode, 'KDC_ERR_PREAUTH_REQUIRED (25)');
    assert.equal(described.eText, 'NEEDED_PREAUTH');
    assert.deepEqual(described.eData.methodData.find((m) => m.type === '19 (PA-ETYPE-INFO2)')?.value, [{ etype: 18, salt: 'EXAMPLE.TESTalice' }]);
    // The hint that PA-ENC-TIMESTAMP is accepted has an empty value, as RFC 4120 has it: not a malformed one.
    assert.equal(described.eData.methodData.find((m) => m.type === '2 (PA-ENC-TIMESTAMP)')?.value, '');
    const rep = await sspiEmu(['decode', KRB.AS_REP]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stdout, /^Kerberos AS-REP/);
    assert.match(rep.stdout, /encPart:\n\s+etype: 18\n\s+kvno: 1\n\s+cipher: \d+ bytes, encrypted: [0-9a-f]+/);
  });

  test("prints gss-client's SPNEGO NegTokenInit with the Kerberos AP-REQ inside decoded", async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', `Negotiate ${base64(hexBytes(KRB.SPNEGO_KRB5_NEG_TOKEN_INIT))}`]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^NegTokenInit \(/);
    assert.match(stdout, /mechToken: \d+ bytes, Kerberos\n\s+Kerberos AP-REQ \(\d+ bytes\)\n\s+framing: GSS-API InitialContextToken, 1\.2\.840\.113554\.1\.2\.2 \(Kerberos 5\), TOK_ID 01 00/);
    assert.match(stdout, /apOptions: 0x20000000 \(MUTUAL_REQUIRED\)/);
  });

  test('a Kerberos message cut short exits 1 naming the DER code and the byte offset', async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', KRB.AS_REQ.slice(0, 80)]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /not a valid Kerberos message: .*\(BAD_LENGTH at byte offset 1 of 40\)/);
  });
});

// With keys, against a live KDC: `sspi-emu dc` issues alice a service ticket for HTTP/web01 and
// exports the service's keytab; the package's initiator makes the AP-REQ; decode opens the ticket
// with the keytab (or the service's password, or its raw key) and the authenticator with the
// session key the ticket carries.
describe('sspi-emu decode, Kerberos with keys', { timeout: 120_000 }, () => {
  const SERVICE_PASSWORD = 'Web01-service-pw';
  let dc: Program;
  let dir: string;
  let keytab: string;
  let ticket: CachedTicket;
  let token: Uint8Array;
  let subkey: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sspi-emu-decode-'));
    keytab = join(dir, 'services.keytab');
    dc = Program.start(process.execPath, [
      CLI, 'dc', '--realm', 'EXAMPLE.TEST', '--port', '0', '--account', 'alice:Alice-pw-1',
      '--service', `HTTP/web01.example.test:${SERVICE_PASSWORD}`, '--export-keytab', keytab,
    ]);
    const line = await dc.waitForLine(/^kdc listening on /);
    const kdc = /^kdc listening on (127\.0\.0\.1):(\d+)$/.exec(line)!;
    const tickets = kdcTickets({ host: kdc[1]!, port: Number(kdc[2]) }, 'EXAMPLE.TEST');
    ticket = await tickets.serviceTicket(await tickets.tgt('alice', 'Alice-pw-1'), 'HTTP/web01.example.test');
    const request = makeApRequest({ ticket, gssFlags: GSS_C.MUTUAL | GSS_C.INTEG | GSS_C.CONF, bindingsHash: new Uint8Array(16), mutual: true, now: new Date() });
    token = request.token;
    subkey = Buffer.from(request.subkey.keyvalue).toString('hex');
  });

  after(async () => {
    await dc?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const sessionKey = (): string => Buffer.from(ticket.sessionKey.keyvalue).toString('hex');

  test('--keytab from `dc --export-keytab` opens the ticket (usage 2) and the authenticator with the session key it holds (usage 11)', async () => {
    const { code, stdout, stderr } = await sspiEmu(['decode', base64(token), '--keytab', keytab]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /status: decrypted with keytab entry HTTP\/web01\.example\.test@EXAMPLE\.TEST kvno \d+ aes256-cts-hmac-sha1-96 \(key usage 2\)/);
    assert.match(stdout, /cname: alice@EXAMPLE\.TEST \(1 \(KRB_NT_PRINCIPAL\)\)/);
    assert.match(stdout, new RegExp(`keyvalue: ${sessionKey()}\\n`), 'the session key the KDC issued');
    assert.match(stdout, /status: decrypted with the session key of the ticket of alice@EXAMPLE\.TEST \(key usage 11\)/);
    assert.match(stdout, /flags: 0x00000032 \(GSS_C_MUTUAL_FLAG, GSS_C_CONF_FLAG, GSS_C_INTEG_FLAG\)/);
    assert.match(stdout, /bindings: 0{32} \(none\)/);
    assert.match(stdout, new RegExp(`keyvalue: ${subkey}\\n`), "the initiator's subkey");
  });

  test('--password and --key open it too, as JSON; inside SPNEGO as well', async () => {
    const byPassword = await sspiEmu(['decode', base64(token), '--password', `HTTP/web01.example.test@EXAMPLE.TEST:${SERVICE_PASSWORD}`, '--json']);
    assert.equal(byPassword.code, 0, byPassword.stderr);
    const described = JSON.parse(byPassword.stdout) as { ticket: { encPart: { status: string; plaintext: { key: { keyvalue: string } } } }; authenticator: { plaintext: { subkey: { keyvalue: string } } } };
    assert.match(described.ticket.encPart.status, /^decrypted with password of HTTP\/web01\.example\.test@EXAMPLE\.TEST \(aes256-cts-hmac-sha1-96\)/);
    assert.equal(described.ticket.encPart.plaintext.key.keyvalue, sessionKey());
    assert.equal(described.authenticator.plaintext.subkey.keyvalue, subkey);

    const bySessionKey = await sspiEmu(['decode', base64(token), '--key', `aes256-cts-hmac-sha1-96:${sessionKey()}`]);
    assert.equal(bySessionKey.code, 0, bySessionKey.stderr);
    assert.match(bySessionKey.stdout, /encPart:[\s\S]*status: not opened: no key opened it/);
    assert.match(bySessionKey.stdout, /status: decrypted with key aes256-cts-hmac-sha1-96 [0-9a-f]{8}\.\.\. \(key usage 11\)/);

    const spnego = packNegTokenInit({ mechTypes: [MECH_OID.KRB5], mechToken: token });
    const inside = await sspiEmu(['decode', `Negotiate ${base64(spnego)}`, '--keytab', keytab]);
    assert.equal(inside.code, 0, inside.stderr);
    assert.match(inside.stdout, /^NegTokenInit/);
    assert.match(inside.stdout, /status: decrypted with the session key of the ticket of alice@EXAMPLE\.TEST \(key usage 11\)/);
  });

  test('a wrong key leaves the parts "not opened" (exit 0); a malformed --key is a usage error (2); an unreadable keytab exits 1', async () => {
    const wrong = await sspiEmu(['decode', base64(token), '--key', `18:${Buffer.from(makeRandomKey(18).keyvalue).toString('hex')}`]);
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.equal((wrong.stdout.match(/status: not opened: no key opened it/g) ?? []).length, 2);
    assert.doesNotMatch(wrong.stdout, /plaintext/);
    assertUsageError(await sspiEmu(['decode', base64(token), '--key', '18:00ff']), 'decode', /the key is 32 bytes, 64 hex digits/);
    assertUsageError(await sspiEmu(['decode', base64(token), '--password', 'alice-without-realm:pw']), 'decode', /not PRINCIPAL@REALM:PASSWORD/);
    const missing = await sspiEmu(['decode', base64(token), '--keytab', join(dir, 'nope.keytab')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /keytab .*nope\.keytab cannot be read/);
  });
});
