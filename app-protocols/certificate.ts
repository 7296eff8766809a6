// X.509 certificates for the HTTPS server (`serve --https`): a self-signed certificate made with
// node:crypto's keys and signatures and a small DER writer (der.ts), and the one thing a channel
// binding needs from any certificate: the hash function of its signature algorithm (RFC 5929 4.1).
//
// Why not a library: `selfsigned` (the usual npm choice) now pulls @peculiar/x509 and pkijs, some
// twenty packages, to write one structure; node-forge is a large general-purpose toolkit; the
// openssl binary may be missing. The certificate made here is RFC 5280's plain shape (v3, random
// serial, CN, validity, SubjectPublicKeyInfo as node:crypto exports it, basicConstraints,
// subjectAltName, extKeyUsage serverAuth, subject and authority key identifiers), checked in the
// tests by node's X509Certificate, by openssl when present, and by curl and Python's ssl module
// that connect to it.

import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  boolean,
  DER_TAG,
  DerError,
  derNull,
  expectTlv,
  explicit,
  implicit,
  octetString,
  oid,
  readOid,
  readTlv,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';

/** The key a generated certificate gets; EC P-256 by default (fast to make, every TLS peer takes it). */
export type CertificateKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'ed25519';
/** The hash its self-signature uses (not for Ed25519, which has its own). md5 and sha1 exist for the tests of RFC 5929's upgrade rule. */
export type SignatureHash = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface SelfSignedOptions {
  commonName?: string;
  /** DNS names and IP addresses for subjectAltName; default localhost, 127.0.0.1 and ::1. */
  altNames?: readonly string[];
  keyType?: CertificateKeyType;
  hash?: SignatureHash;
  /** Valid from an hour ago (clock skew) for this many days; default 365. */
  days?: number;
  now?: Date;
}

export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
  /** The certificate's DER (what a TLS server sends, and what tls-server-end-point hashes). */
  der: Uint8Array;
  /** SHA-256 over the DER, as "AB:CD:..." (openssl x509 -fingerprint -sha256, node's fingerprint256). */
  fingerprint256: string;
}

const OIDS = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** The AlgorithmIdentifier of each key type and hash pair that can be made here. */
function signatureAlgorithm(keyType: CertificateKeyType, hash: SignatureHash): { id: Uint8Array; digest: string | null } {
  if (keyType === 'ed25519') return { id: sequence(oid('1.3.101.112')), digest: null };
  if (keyType === 'rsa-2048') {
    const arc = { md5: 4, sha1: 5, sha256: 11, sha384: 12, sha512: 13 }[hash];
    // RFC 4055 / RFC 3279: the RSA signature algorithms carry an explicit NULL parameter.
    return { id: sequence(oid(`1.2.840.113549.1.1.${arc}`), derNull()), digest: hash };
  }
  if (hash === 'md5') throw new Error('ECDSA has no MD5 signature algorithm');
  const ecdsa = { sha1: '1.2.840.10045.4.1', sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' }[hash];
  return { id: sequence(oid(ecdsa)), digest: hash };
}

function keyPair(keyType: CertificateKeyType): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (keyType) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
}

function name(commonName: string): Uint8Array {
  const rdn = (type: string, value: string): Uint8Array => set(sequence(oid(type), utf8String(value)));
  return sequence(rdn(OIDS.organizationName, 'sspi-emu'), rdn(OIDS.commonName, commonName));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** A GeneralName (RFC 5280 4.2.1.6): iPAddress [7] for an address, dNSName [2] otherwise. */
function generalName(altName: string): Uint8Array {
  const family = isIP(altName);
  if (family === 4) return implicit(7, Uint8Array.from(altName.split('.').map(Number)));
  if (family === 6) return implicit(7, ipv6Bytes(altName));
  if (!/^[A-Za-z0-9*]([A-Za-z0-9.-]{0,252})$/.test(altName)) throw new Error(`not a DNS name or IP address: ${JSON.stringify(altName)}`);
  return implicit(2, new TextEncoder().encode(altName));
}

function ipv6Bytes(address: string): Uint8Array {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (part: string | undefined): number[] => (part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo, for the key identifier (RFC 5280 4.2.1.2, method 1). */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const outer = expectTlv(spki, 0, DER_TAG.SEQUENCE, 'SubjectPublicKeyInfo');
  const algorithm = expectTlv(spki, outer.start, DER_TAG.SEQUENCE, 'its algorithm', outer.end);
  const bits = expectTlv(spki, algorithm.end, DER_TAG.BIT_STRING, 'subjectPublicKey', outer.end);
  return createHash('sha1')
    .update(spki.subarray(bits.start + 1, bits.end))
    .digest();
}

/** Makes a key pair and a certificate signed with its own key, for a TLS server. */
export function selfSignedCertificate(options: SelfSignedOptions = {}): SelfSignedCertificate {
  const keyType = options.keyType ?? 'ec-p256';
  const hash = options.hash ?? 'sha256';
  const commonName = options.commonName ?? 'localhost';
  const altNames = options.altNames ?? ['localhost', '127.0.0.1', '::1'];
  const now = options.now ?? new Date();
  const days = options.days ?? 365;
  const { publicKey, privateKey } = keyPair(keyType);
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const algorithm = signatureAlgorithm(keyType, hash);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive, at most 20 octets (RFC 5280 4.1.2.2)
  serial[0]! |= 0x01; // never a leading zero byte to trim
  const keyId = keyIdentifier(spki);
  const issuer = name(commonName);
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm.id,
    issuer,
    sequence(time(new Date(now.getTime() - 3_600_000)), time(new Date(now.getTime() + days * 86_400_000))),
    issuer, // self-signed: the subject is the issuer
    spki,
    explicit(
      3,
      sequence(
        extension(OIDS.basicConstraints, true, sequence()), // cA FALSE (the default, so absent)
        extension(OIDS.subjectAltName, false, sequence(...altNames.map(generalName))),
        extension(OIDS.extKeyUsage, false, sequence(oid(OIDS.serverAuth))),
        extension(OIDS.subjectKeyIdentifier, false, octetString(keyId)),
        extension(OIDS.authorityKeyIdentifier, false, sequence(implicit(0, keyId))),
      ),
    ),
  );
  const signature = sign(algorithm.digest, tbs, privateKey); // ECDSA: DER Ecdsa-Sig-Value, as X.509 wants it
  const der = sequence(tbs, algorithm.id, bitString(signature));
  const x509 = new X509Certificate(der); // what we wrote must read back (node parses it as OpenSSL does)
  if (!x509.verify(createPublicKey(privateKey))) throw new Error('the generated certificate does not verify with its own key');
  return {
    certPem: pem('CERTIFICATE', der),
    keyPem: String(privateKey.export({ type: 'pkcs8', format: 'pem' })),
    der,
    fingerprint256: x509.fingerprint256,
  };
}

/** PEM armour (RFC 7468): base64 in lines of 64. */
export function pem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// ---------------------------------------------------------------------------------------------
// The hash of a certificate's signature algorithm

/** node:crypto's names of the hashes a signature algorithm can name. */
export type CertificateHash = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** The hash function each signature algorithm OID names (RFC 3279, RFC 4055, RFC 5758). */
const SIGNATURE_HASHES: ReadonlyMap<string, CertificateHash> = new Map([
  ['1.2.840.113549.1.1.4', 'md5'], // md5WithRSAEncryption
  ['1.2.840.113549.1.1.5', 'sha1'], // sha1WithRSAEncryption
  ['1.2.840.113549.1.1.14', 'sha224'],
  ['1.2.840.113549.1.1.11', 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
  ['1.2.840.10045.4.1', 'sha1'], // ecdsa-with-SHA1
  ['1.2.840.10045.4.3.1', 'sha224'],
  ['1.2.840.10045.4.3.2', 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
  ['1.2.840.10040.4.3', 'sha1'], // dsa-with-sha1
  ['2.16.840.1.101.3.4.3.1', 'sha224'], // dsa-with-sha224
  ['2.16.840.1.101.3.4.3.2', 'sha256'], // dsa-with-sha256
]);

/** Hash algorithm OIDs, for RSASSA-PSS parameters (RFC 4055 2.1). */
const HASH_OIDS: ReadonlyMap<string, CertificateHash> = new Map([
  ['1.3.14.3.2.26', 'sha1'],
  ['2.16.840.1.101.3.4.2.4', 'sha224'],
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);

const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The certificate's signature algorithm and the single hash it uses, or why it has none. */
export type SignatureHashResult = { algorithm: string; hash: CertificateHash } | { algorithm: string; hash: undefined; reason: string };

/**
 * Reads Certificate.signatureAlgorithm (RFC 5280 4.1.1.2) from a certificate's DER and names its
 * hash. Throws DerError when the bytes are not a certificate's outer structure.
 */
export function signatureHash(der: Uint8Array): SignatureHashResult {
  const cert = expectTlv(der, 0, DER_TAG.SEQUENCE, 'Certificate');
  if (cert.end !== der.length) throw new DerError(cert.end, `${der.length - cert.end} bytes after the certificate`);
  const tbs = expectTlv(der, cert.start, DER_TAG.SEQUENCE, 'TBSCertificate', cert.end);
  const algorithmId = expectTlv(der, tbs.end, DER_TAG.SEQUENCE, 'signatureAlgorithm', cert.end);
  const algorithm = readOid(der, expectTlv(der, algorithmId.start, DER_TAG.OID, 'signatureAlgorithm.algorithm', algorithmId.end));
  const named = SIGNATURE_HASHES.get(algorithm);
  if (named !== undefined) return { algorithm, hash: named };
  if (algorithm === RSASSA_PSS) {
    const pss = pssHash(der, algorithmId);
    return typeof pss === 'string' ? { algorithm, hash: undefined, reason: pss } : { algorithm, hash: pss.hash };
  }
  return { algorithm, hash: undefined, reason: `the signature algorithm ${algorithm} names no single hash function (e.g. Ed25519, Ed448)` };
}

/** RSASSA-PSS-params' hashAlgorithm ([0] EXPLICIT, default SHA-1: RFC 4055 3.1), or why there is none to name. */
function pssHash(der: Uint8Array, algorithmId: { start: number; end: number }): { hash: CertificateHash } | string {
  const oidTlv = readTlv(der, algorithmId.start, algorithmId.end);
  if (oidTlv.end === algorithmId.end) return { hash: 'sha1' };
  const params = expectTlv(der, oidTlv.end, DER_TAG.SEQUENCE, 'RSASSA-PSS-params', algorithmId.end);
  if (params.start === params.end) return { hash: 'sha1' };
  const first = readTlv(der, params.start, params.end);
  if (first.tag !== 0xa0) return { hash: 'sha1' };
  const hashId = expectTlv(der, first.start, DER_TAG.SEQUENCE, 'hashAlgorithm', first.end);
  const hashOid = readOid(der, expectTlv(der, hashId.start, DER_TAG.OID, 'hashAlgorithm.algorithm', hashId.end));
  const hash = HASH_OIDS.get(hashOid);
  return hash === undefined ? `RSASSA-PSS with the hash ${hashOid}, which is not known here` : { hash };
}
