// An independent check of Negotiate's tokens and mechListMICs with impacket (Debian
// python3-impacket), whose SPNEGO and NTLM code nobody here wrote. A Negotiate handshake runs
// across the workers; impacket then parses the NegTokenInit and the NegTokenResps, recovers the
// session key from the AUTHENTICATE with the password alone (NTOWFv2, the NTLMv2 SessionBaseKey,
// the key exchange undone with RC4), re-encodes the MechTypeList it read, and recomputes with its
// own SIGN both mechListMICs (sequence 0, each side's keys) and the client's first signed message
// (sequence 1 with the RC4 state reset, MS-SPNG 3.3.5.1). Skipped, saying so, without it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { SECBUFFER, tokenBytes } from '../../headers/sspi.js';
import { ALICE, establish, withMachine } from '../helpers/machine.js';
import type { ContextResult } from '../../sspi/secur32.js';

/** A Python 3 that imports impacket: Debian's (python3-impacket installs there), or the one on PATH. */
function impacketPython(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import impacket.spnego, impacket.ntlm, Cryptodome.Cipher.ARC4'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

const PYTHON = impacketPython();
const SKIP = PYTHON === undefined ? 'impacket is not installed (apt-get install python3-impacket)' : false;

const SCRIPT = String.raw`
import sys, json, base64, struct
from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, asn1encode, asn1decode, TypesMech
from impacket import ntlm
from Cryptodome.Cipher import ARC4

data = json.load(sys.stdin)
tokens = [base64.b64decode(t) for t in data['tokens']]
out = {}

init = SPNEGO_NegTokenInit(tokens[0])
out['ntlmOid'] = init['MechTypes'][0] == TypesMech['NTLMSSP - Microsoft NTLM Security Support Provider']
negotiate = ntlm.NTLMAuthNegotiate(); negotiate.fromString(init['MechToken'])
out['negotiateFlags'] = negotiate['flags']

first = SPNEGO_NegTokenResp(tokens[1])
out['negState1'] = first['NegState'].hex()
out['supportedMech'] = first['SupportedMech'] == TypesMech['NTLMSSP - Microsoft NTLM Security Support Provider']
challenge = ntlm.NTLMAuthChallenge(); challenge.fromString(first['ResponseToken'])

second = SPNEGO_NegTokenResp(tokens[2])
auth = ntlm.NTLMAuthChallengeResponse(); auth.fromString(second['ResponseToken'])

def trailing_mic(token):
    # NegTokenResp's last field, [3] mechListMIC: impacket's parser stops before it, so read it with its asn1decode.
    body, _ = asn1decode(token[1:])
    fields, _ = asn1decode(body[1:])
    mic = None
    while fields:
        tag = fields[0]
        value, used = asn1decode(fields[1:])
        if tag == 0xa3:
            mic, _ = asn1decode(value[1:])
        fields = fields[1 + used:]
    return mic

client_mic = trailing_mic(tokens[2])
server_mic = trailing_mic(tokens[3])
out['negState4'] = asn1decode(asn1decode(asn1decode(asn1decode(tokens[3][1:])[0][1:])[0][1:])[0][1:])[0].hex()

# The session key from the password and the AUTHENTICATE alone (NTLMv2, KEY_EXCH).
user = auth['user_name'].decode('utf-16le'); domain = auth['domain_name'].decode('utf-16le')
response_key = ntlm.NTOWFv2(user, data['password'], domain)
session_base_key = ntlm.hmac_md5(response_key, auth['ntlm'][:16])
exported = ARC4.new(session_base_key).encrypt(auth['session_key'])
flags = auth['flags'] & challenge['flags']

mech_list = b'\x30' + asn1encode(b''.join(b'\x06' + asn1encode(m) for m in init['MechTypes']))
out['mechList'] = mech_list.hex()

def sign(mode, seq, message):
    handle = ARC4.new(ntlm.SEALKEY(flags, exported, mode)).encrypt
    return ntlm.SIGN(flags, ntlm.SIGNKEY(flags, exported, mode), message, seq, handle).getData().hex()

out['clientMic'] = [client_mic.hex(), sign('Client', 0, mech_list)]
out['serverMic'] = [server_mic.hex(), sign('Server', 0, mech_list)]
message = base64.b64decode(data['message'])
out['firstSignature'] = [base64.b64decode(data['signature']).hex(), sign('Client', 1, message)]
print(json.dumps(out))
`;

describe("impacket reads Negotiate's tokens and recomputes its mechListMICs", () => {
  it('parses the NegTokenInit and NegTokenResps, and its SIGN gives the same mechListMICs and the same first signature', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine({ accounts: ['alice:Passw0rd!'] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: 'Negotiate' });
      assert.ok(done.ok);
      const tokens = done.results
        .filter((r): r is ContextResult => typeof r === 'object' && r !== null && 'output' in r)
        .map((r) => tokenBytes(r.output))
        .filter((b) => b !== undefined && b.length > 0);
      assert.equal(tokens.length, 4);
      const message = new TextEncoder().encode('first message after the mechListMIC');
      const signed = await client.sspi.makeSignature(
        done.clientContext!,
        0,
        [
          { BufferType: SECBUFFER.DATA, pvBuffer: message },
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
        ],
        0,
      );
      const input = JSON.stringify({
        tokens: tokens.map((b) => Buffer.from(b!).toString('base64')),
        password: ALICE.Password,
        message: Buffer.from(message).toString('base64'),
        signature: Buffer.from(signed.message[1]!.pvBuffer).toString('base64'),
      });
      const run = spawnSync(PYTHON!, ['-c', SCRIPT], { input, encoding: 'utf8', timeout: 30_000 });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout) as Record<string, unknown>;
      assert.equal(out.ntlmOid, true, 'the mechanism list names NTLMSSP');
      assert.equal(out.mechList, '300c060a2b06010401823702020a');
      assert.equal(out.negState1, '01', 'accept-incomplete');
      assert.equal(out.supportedMech, true);
      assert.equal(out.negState4, '00', 'accept-completed');
      const [ourClient, theirClient] = out.clientMic as [string, string];
      const [ourServer, theirServer] = out.serverMic as [string, string];
      const [ourFirst, theirFirst] = out.firstSignature as [string, string];
      assert.equal(ourClient, theirClient, "the client's mechListMIC");
      assert.equal(ourServer, theirServer, "the server's mechListMIC");
      assert.equal(ourFirst, theirFirst, 'the first signed message: sequence 1, the RC4 state reset');
      assert.match(ourFirst, /01000000$/);
    });
  });
});
