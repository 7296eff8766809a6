// Published vectors for the Kerberos cryptosystem, as data, each group with its source: RFC 3961
// Appendix A.1, RFC 3962 Appendix B, RFC 8009 Appendix A, RFC 6113 Appendix A, and MIT krb5's
// own tests (src/lib/crypto/crypto_tests/t_*.c), whose values were made by MIT's implementation
// and pinned there. Hex as in the documents; text where the documents give text.

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${hex}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

// ---------------------------------------------------------------------------------------------
// n-fold

export interface NfoldVector {
  readonly input: Uint8Array;
  readonly bits: number;
  readonly output: string;
}

/** RFC 3961 Appendix A.1 (test cases by Marc Horowitz and Simon Josefsson). */
export const RFC3961_NFOLD: readonly NfoldVector[] = [
  { input: ascii('012345'), bits: 64, output: 'be072631276b1955' },
  { input: ascii('password'), bits: 56, output: '78a07b6caf85fa' },
  { input: ascii('Rough Consensus, and Running Code'), bits: 64, output: 'bb6ed30870b7f0e0' },
  { input: ascii('password'), bits: 168, output: '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e' },
  { input: ascii('MASSACHVSETTS INSTITVTE OF TECHNOLOGY'), bits: 192, output: 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b' },
  { input: ascii('Q'), bits: 168, output: '518a54a215a8452a518a54a215a8452a518a54a215' },
  { input: ascii('ba'), bits: 168, output: 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e' },
  { input: ascii('kerberos'), bits: 64, output: '6b65726265726f73' },
  { input: ascii('kerberos'), bits: 128, output: '6b65726265726f737b9b5b2b93132b93' },
  { input: ascii('kerberos'), bits: 168, output: '8372c236344e5f1550cd0747e15d62ca7a5a3bcea4' },
  { input: ascii('kerberos'), bits: 256, output: '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4' },
];

/** MIT krb5 t_nfold.c: 192-fold of four more strings. */
export const MIT_NFOLD: readonly NfoldVector[] = [
  { input: ascii('basch'), bits: 192, output: '1aab6b42964b98b21f8cde2d2448ba3455d7862c9731643f' },
  { input: ascii('eichin'), bits: 192, output: '65696368696e4b732b4b1b43da1a5b995a58d2c6d0d2dcca' },
  { input: ascii('sommerfeld'), bits: 192, output: '2f7a98557c6ee4abadf4e71192dd442bd4ff5325a5def75c' },
  { input: ascii('MASSACHVSETTS INSTITVTE OF TECHNOLOGY'), bits: 192, output: 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b' },
];

// ---------------------------------------------------------------------------------------------
// RFC 3962 Appendix B

export interface Rfc3962StringToKeyVector {
  readonly iterations: number;
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly pbkdf2_128: string;
  readonly key128: string;
  readonly pbkdf2_256: string;
  readonly key256: string;
}

const ATHENA = ascii('ATHENA.MIT.EDUraeburn');

/** RFC 3962 Appendix B: PBKDF2-HMAC-SHA1 then DK(tkey, "kerberos"), for both key sizes. */
export const RFC3962_STRING_TO_KEY: readonly Rfc3962StringToKeyVector[] = [
  {
    iterations: 1,
    password: ascii('password'),
    salt: ATHENA,
    pbkdf2_128: 'cdedb5281bb2f801565a1122b2563515',
    key128: '42263c6e89f4fc28b8df68ee09799f15',
    pbkdf2_256: 'cdedb5281bb2f801565a1122b25635150ad1f7a04bb9f3a333ecc0e2e1f70837',
    key256: 'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161',
  },
  {
    iterations: 2,
    password: ascii('password'),
    salt: ATHENA,
    pbkdf2_128: '01dbee7f4a9e243e988b62c73cda935d',
    key128: 'c651bf29e2300ac27fa469d693bdda13',
    pbkdf2_256: '01dbee7f4a9e243e988b62c73cda935da05378b93244ec8f48a99e61ad799d86',
    key256: 'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff',
  },
  {
    iterations: 1200,
    password: ascii('password'),
    salt: ATHENA,
    pbkdf2_128: '5c08eb61fdf71e4e4ec3cf6ba1f5512b',
    key128: '4c01cd46d632d01e6dbe230a01ed642a',
    pbkdf2_256: '5c08eb61fdf71e4e4ec3cf6ba1f5512ba7e52ddbc5e5142f708a31e2e62b1e13',
    key256: '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a',
  },
  {
    iterations: 5,
    password: ascii('password'),
    salt: fromHex('1234567878563412'),
    pbkdf2_128: 'd1daa78615f287e6a1c8b120d7062a49',
    key128: 'e9b23d52273747dd5c35cb55be619d8e',
    pbkdf2_256: 'd1daa78615f287e6a1c8b120d7062a493f98d203e6be49a6adf4fa574b6e64ee',
    key256: '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31',
  },
  {
    iterations: 1200,
    password: ascii('X'.repeat(64)),
    salt: ascii('pass phrase equals block size'),
    pbkdf2_128: '139c30c0966bc32ba55fdbf212530ac9',
    key128: '59d1bb789a828b1aa54ef9c2883f69ed',
    pbkdf2_256: '139c30c0966bc32ba55fdbf212530ac9c5ec59f1a452f5cc9ad940fea0598ed1',
    key256: '89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34',
  },
  {
    iterations: 1200,
    password: ascii('X'.repeat(65)),
    salt: ascii('pass phrase exceeds block size'),
    pbkdf2_128: '9ccad6d468770cd51b10e6a68721be61',
    key128: 'cb8005dc5f90179a7f02104c0018751d',
    pbkdf2_256: '9ccad6d468770cd51b10e6a68721be611a8b4d282601db3b36be9246915ec82a',
    key256: 'd78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b',
  },
  {
    iterations: 50,
    password: fromHex('f09d849e'), // U+1D11E MUSICAL SYMBOL G CLEF, in UTF-8
    salt: ascii('EXAMPLE.COMpianist'),
    pbkdf2_128: '6b9cf26d45455a43a5b8bb276a403b39',
    key128: 'f149c1f2e154a73452d43e7fe62a56e5',
    pbkdf2_256: '6b9cf26d45455a43a5b8bb276a403b39e7fe37a0c41e02c281ff3069e1e94f52',
    key256: '4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e',
  },
];

/** RFC 3962 Appendix B: the AES-CTS vectors' key ("chicken teriyaki") and input, whose first n bytes each vector encrypts under the zero IV. */
export const RFC3962_CTS_KEY = ascii('chicken teriyaki');
export const RFC3962_CTS_INPUT = ascii("I would like the General Gau's Chicken, please, and wonton soup.");

export interface CtsVector {
  readonly length: number;
  readonly output: string;
  readonly nextIv: string;
}

/** RFC 3962 Appendix B: CBC with ciphertext stealing, IV all zero. */
export const RFC3962_CTS: readonly CtsVector[] = [
  { length: 17, output: 'c6353568f2bf8cb4d8a580362da7ff7f97', nextIv: 'c6353568f2bf8cb4d8a580362da7ff7f' },
  { length: 31, output: 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5', nextIv: 'fc00783e0efdb2c1d445d4c8eff7ed22' },
  { length: 32, output: '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584', nextIv: '39312523a78662d5be7fcbcc98ebf5a8' },
  {
    length: 47,
    output: '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5',
    nextIv: 'b3fffd940c16a18c1b5549d2f838029e',
  },
  {
    length: 48,
    output: '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8',
    nextIv: '9dad8bbb96c4cdc03bc103e1a194bbd8',
  },
  {
    length: 64,
    output: '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8',
    nextIv: '4807efe836ee89a526730dbc2f7bc840',
  },
];

// ---------------------------------------------------------------------------------------------
// RFC 8009 Appendix A (every value with key usage 2)

export const RFC8009_BASE_KEY_19 = fromHex('3705d96080c17728a0e800eab6e0d23c');
export const RFC8009_BASE_KEY_20 = fromHex('6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52');
export const RFC8009_USAGE = 2;

/** RFC 8009 Appendix A, "Sample results for string-to-key conversion": iteration count 32768, the salt a 16-byte random prefix and "ATHENA.MIT.EDUraeburn". */
export const RFC8009_STRING_TO_KEY = {
  password: ascii('password'),
  salt: new Uint8Array([...fromHex('10df9dd783e5bc8acea1730e74355f61'), ...ATHENA]),
  params: fromHex('00008000'),
  keys: { 19: '089bca48b105ea6ea77ca5d2f39dc5e7', 20: '45bd806dbf6a833a9cffc1c94589a222367a79bc21c413718906e9f578a78467' },
} as const;

export interface UsageKeysVector {
  readonly etype: number;
  readonly key: Uint8Array;
  readonly usage: number;
  readonly kc: string;
  readonly ke: string;
  readonly ki: string;
}

/** RFC 8009 Appendix A, "Sample results for key derivation". */
export const RFC8009_KEY_DERIVATION: readonly UsageKeysVector[] = [
  {
    etype: 19,
    key: RFC8009_BASE_KEY_19,
    usage: 2,
    kc: 'b31a018a48f54776f403e9a396325dc3',
    ke: '9b197dd1e8c5609d6e67c3e37c62c72e',
    ki: '9fda0e56ab2d85e1569a688696c26a6c',
  },
  {
    etype: 20,
    key: RFC8009_BASE_KEY_20,
    usage: 2,
    kc: 'ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d',
    ke: '56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49',
    ki: '69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f',
  },
];

export interface EncryptionVector {
  readonly etype: number;
  readonly key: Uint8Array;
  readonly usage: number;
  readonly plaintext: Uint8Array;
  /** The confounder the vector used; absent when the source gives only the ciphertext (decryption vectors). */
  readonly confounder?: Uint8Array;
  readonly ciphertext: string;
}

const BYTES_0_TO_20 = fromHex('000102030405060708090a0b0c0d0e0f1011121314');

/** RFC 8009 Appendix A, "Sample encryptions (all using the default cipher state)": plaintexts of 0, 6, 16 and 21 bytes. */
export const RFC8009_ENCRYPTIONS: readonly EncryptionVector[] = [
  {
    etype: 19,
    key: RFC8009_BASE_KEY_19,
    usage: 2,
    plaintext: new Uint8Array(0),
    confounder: fromHex('7e5895eaf2672435bad817f545a37148'),
    ciphertext: 'ef85fb890bb8472f4dab20394dca781dad877eda39d50c870c0d5a0a8e48c718',
  },
  {
    etype: 19,
    key: RFC8009_BASE_KEY_19,
    usage: 2,
    plaintext: BYTES_0_TO_20.subarray(0, 6),
    confounder: fromHex('7bca285e2fd4130fb55b1a5c83bc5b24'),
    ciphertext: '84d7f30754ed987bab0bf3506beb09cfb55402cef7e6877ce99e247e52d16ed4421dfdf8976c',
  },
  {
    etype: 19,
    key: RFC8009_BASE_KEY_19,
    usage: 2,
    plaintext: BYTES_0_TO_20.subarray(0, 16),
    confounder: fromHex('56ab21713ff62c0a1457200f6fa9948f'),
    ciphertext: '3517d640f50ddc8ad3628722b3569d2ae07493fa8263254080ea65c1008e8fc295fb4852e7d83e1e7c48c37eebe6b0d3',
  },
  {
    etype: 19,
    key: RFC8009_BASE_KEY_19,
    usage: 2,
    plaintext: BYTES_0_TO_20,
    confounder: fromHex('a7a4e29a4728ce10664fb64e49ad3fac'),
    ciphertext: '720f73b18d9859cd6ccb4346115cd336c70f58edc0c4437c5573544c31c813bce1e6d072c186b39a413c2f92ca9b8334a287ffcbfc',
  },
  {
    etype: 20,
    key: RFC8009_BASE_KEY_20,
    usage: 2,
    plaintext: new Uint8Array(0),
    confounder: fromHex('f764e9fa15c276478b2c7d0c4e5f58e4'),
    ciphertext: '41f53fa5bfe7026d91faf9be959195a058707273a96a40f0a01960621ac612748b9bbfbe7eb4ce3c',
  },
  {
    etype: 20,
    key: RFC8009_BASE_KEY_20,
    usage: 2,
    plaintext: BYTES_0_TO_20.subarray(0, 6),
    confounder: fromHex('b80d3251c1f6471494256ffe712d0b9a'),
    ciphertext: '4ed7b37c2bcac8f74f23c1cf07e62bc7b75fb3f637b9f559c7f664f69eab7b6092237526ea0d1f61cb20d69d10f2',
  },
  {
    etype: 20,
    key: RFC8009_BASE_KEY_20,
    usage: 2,
    plaintext: BYTES_0_TO_20.subarray(0, 16),
    confounder: fromHex('53bf8a0d105265d4e276428624ce5e63'),
    ciphertext: 'bc47ffec7998eb91e8115cf8d19dac4bbbe2e163e87dd37f49beca92027764f68cf51f14d798c2273f35df574d1f932e40c4ff255b36a266',
  },
  {
    etype: 20,
    key: RFC8009_BASE_KEY_20,
    usage: 2,
    plaintext: BYTES_0_TO_20,
    confounder: fromHex('763e65367e864f02f55153c7e3b58af1'),
    ciphertext: '40013e2df58e8751957d2878bcd2d6fe101ccfd556cb1eae79db3c3ee86429f2b2a602ac86fef6ecb647d6295fae077a1feb517508d2c16b4192e01f62',
  },
];

export interface ChecksumVector {
  readonly cksumtype: number;
  readonly etype: number;
  readonly key: Uint8Array;
  readonly usage: number;
  readonly data: Uint8Array;
  readonly checksum: string;
}

/** RFC 8009 Appendix A, "Sample checksums". */
export const RFC8009_CHECKSUMS: readonly ChecksumVector[] = [
  { cksumtype: 19, etype: 19, key: RFC8009_BASE_KEY_19, usage: 2, data: BYTES_0_TO_20, checksum: 'd78367186643d67b411cba9139fc1dee' },
  { cksumtype: 20, etype: 20, key: RFC8009_BASE_KEY_20, usage: 2, data: BYTES_0_TO_20, checksum: '45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a' },
];

export interface PrfVector {
  readonly etype: number;
  readonly key: Uint8Array;
  readonly input: Uint8Array;
  readonly output: string;
}

/** RFC 8009 Appendix A, "Sample pseudorandom function (PRF) invocations". */
export const RFC8009_PRF: readonly PrfVector[] = [
  { etype: 19, key: RFC8009_BASE_KEY_19, input: ascii('test'), output: '9d188616f63852fe86915bb840b4a886ff3e6bb0f819b49b893393d393854295' },
  {
    etype: 20,
    key: RFC8009_BASE_KEY_20,
    input: ascii('test'),
    output: '9801f69a368c2bf675e59521e177d9a07f67efe1cfde8d3c8d6f6a0256e3b17db3c1b62ad1b8553360d17367eb1514d2',
  },
];

// ---------------------------------------------------------------------------------------------
// MIT krb5's own vectors for 17 and 18 (src/lib/crypto/crypto_tests)

const RFC3962_KEY_128 = fromHex('42263c6e89f4fc28b8df68ee09799f15');
const RFC3962_KEY_256 = fromHex('fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161');

/** MIT krb5 t_derive.c: Kc, Ke and Ki for usage 2 of the RFC 3962 iteration-1 keys. */
export const MIT_KEY_DERIVATION: readonly UsageKeysVector[] = [
  {
    etype: 17,
    key: RFC3962_KEY_128,
    usage: 2,
    kc: '34280a382bc92769b2da2f9ef066854b',
    ke: '5b14fc4e250e14ddf9dccf1af6674f53',
    ki: '4ed31063621684f09ae8d89991af3e8f',
  },
  {
    etype: 18,
    key: RFC3962_KEY_256,
    usage: 2,
    kc: 'bfab388bdcb238e9f9c98d6a878304f04d30c82556375ac507a7a852790f4674',
    ke: 'c7cfd9cd75fe793a586a542d87e0d1396f1134a104bb1a9190b8c90ada3ddf37',
    ki: '97151b4c76945063e2eb0529dc067d97d7bba90776d8126d91f34f3101aea8ba',
  },
];

/** MIT krb5 t_decrypt.c: known ciphertexts (random confounders) of five plaintexts under usages 0 to 4. */
export const MIT_DECRYPTIONS: readonly EncryptionVector[] = [
  {
    etype: 17,
    key: fromHex('5a5c0f0ba54f3828b2195e66ca24a289'),
    usage: 0,
    plaintext: ascii(''),
    ciphertext: '49ff8e11c173d9583a3254fbe7b1f1df36c538e8416784a1672e6676',
  },
  {
    etype: 17,
    key: fromHex('98450e3f3baa13f5c99beb936981b06f'),
    usage: 1,
    plaintext: ascii('1'),
    ciphertext: 'f86742f537b35dc2174a4dbaa920faf9042090b065e1ebb1cad9a65394',
  },
  {
    etype: 17,
    key: fromHex('9062430c8cda3388922e6d6a509f5b7a'),
    usage: 2,
    plaintext: ascii('9 bytesss'),
    ciphertext: '68fb9679601f45c78857b2bf820fd6e53eca8d42fd4b1d7024a09205abb7cd2ec26c355d2f',
  },
  {
    etype: 17,
    key: fromHex('033ee6502c54fd23e27791e987983827'),
    usage: 3,
    plaintext: ascii('13 bytes byte'),
    ciphertext: 'ec366d0327a933bf49330e650e49bc6b974637fe80bf532fe51795b4809718e6194724db948d1fd637',
  },
  {
    etype: 17,
    key: fromHex('dceeb70b3de76562e689226c76429148'),
    usage: 4,
    plaintext: ascii('30 bytes bytes bytes bytes byt'),
    ciphertext: 'c96081032d5d8eeb7e32b4089f789d0faa481dea74c0f97cbf3146ddfcf8e800156ecb532fc203e30ff600b63b350939fece510f02d7ff1e7bac',
  },
  {
    etype: 18,
    key: fromHex('17f275f2954f2ed1f90c377ba7f4d6a369aa0136e0bf0c927ad6133c693759a9'),
    usage: 0,
    plaintext: ascii(''),
    ciphertext: 'e5094c55ee7b38262e2b044280b069379a95bf95bd8376fb3281b435',
  },
  {
    etype: 18,
    key: fromHex('b9477e1ff0329c0050e20ce6c72d2dff27e8fe541ab0954429a9cb5b4f7b1e2a'),
    usage: 1,
    plaintext: ascii('1'),
    ciphertext: '406150b97aeb76d43b36b62cc1ecdfbe6f40e95755e0beb5c27825f3a4',
  },
  {
    etype: 18,
    key: fromHex('b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7'),
    usage: 2,
    plaintext: ascii('9 bytesss'),
    ciphertext: '09957aa25fcaf88f7b39e4406e633012d5fea21853f6478da7065caef41fd454a40824eec5',
  },
  {
    etype: 18,
    key: fromHex('e5a72be9b7926c1225bafef9c1872e7ba4cdb2b17893d84abd90acdd8764d966'),
    usage: 3,
    plaintext: ascii('13 bytes byte'),
    ciphertext: 'd8f1aafeec84587cc3e700a774e56651a6d693e174ec4473b5e6d96f80297a653fb818ad893e719f96',
  },
  {
    etype: 18,
    key: fromHex('f1c795e9248a09338d82c3f8d5b567040b0110736845041347235b1404231398'),
    usage: 4,
    plaintext: ascii('30 bytes bytes bytes bytes byt'),
    ciphertext: 'd1137a4d634cfece924dbc3bf6790648bd5cff7de0e7b99460211d0daef3d79a295c688858f3b34b9cbd6eebae81daf6b734d4d498b6714f1c1d',
  },
];

/** MIT krb5 t_cksums.c: hmac-sha1-96-aes128 and hmac-sha1-96-aes256. */
export const MIT_CHECKSUMS: readonly ChecksumVector[] = [
  {
    cksumtype: 15,
    etype: 17,
    key: fromHex('9062430c8cda3388922e6d6a509f5b7a'),
    usage: 3,
    data: ascii('eight nine ten eleven twelve thirteen'),
    checksum: '01a4b088d45628f6946614e3',
  },
  {
    cksumtype: 16,
    etype: 18,
    key: fromHex('b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7'),
    usage: 4,
    data: ascii('fourteen'),
    checksum: 'e08739e3279e2903ec8e3836',
  },
];

/** MIT krb5 t_prf.c: the RFC 3961 PRF of 17 and 18 keys (16 bytes: AES of the SHA-1 hash cut to a block). */
export const MIT_PRF: readonly PrfVector[] = [
  { etype: 17, key: fromHex('ae272e7cdec86ac5138cdb196d8e297d'), input: fromHex('0161'), output: '77b39a37a868920f2a51f9dd150c5717' },
  { etype: 17, key: fromHex('67ab1cfef35e4c27ffdeac60385a3e9c'), input: fromHex('0162'), output: 'e06c0dd31ff02091994f2ef5178bfe3d' },
  {
    etype: 18,
    key: fromHex('c01f157211f7b77eaaf457c3e156690127ee127d810ba6392e97baa243eb0616'),
    input: fromHex('0161'),
    output: 'b2628c788e2e9c4a9bb4644678c29f2f',
  },
  {
    etype: 18,
    key: fromHex('c01f157211f7b77eaaf457c3e156690127ee127d810ba6392e97baa243eb0616'),
    input: fromHex('0261'),
    output: 'b406373350cee8a6126f4a9b65a0cd21',
  },
  {
    etype: 18,
    key: fromHex('9d520d2d980aa7cb6b693682b62da258b333867951642ce647ae62b1e5e0b5e9'),
    input: fromHex('0162'),
    output: 'ff0e289ea756c0559a0e911856961a49',
  },
  {
    etype: 18,
    key: fromHex('9d520d2d980aa7cb6b693682b62da258b333867951642ce647ae62b1e5e0b5e9'),
    input: fromHex('0262'),
    output: '0d674dd0f9a6806525a4d92e828bd15a',
  },
];

// ---------------------------------------------------------------------------------------------
// KRB-FX-CF2: k1 = string-to-key("key1", "key1"), k2 = string-to-key("key2", "key2") with default
// parameters, the result KRB-FX-CF2(k1, k2, "a", "b").

export interface Cf2Vector {
  readonly etype: number;
  readonly output: string;
  readonly source: string;
}

export const CF2: readonly Cf2Vector[] = [
  { etype: 17, output: '97df97e4b798b29eb31ed7280287a92a', source: 'RFC 6113 Appendix A' },
  { etype: 18, output: '4d6ca4e629785c1f01baf55e2e548566b9617ae3a96868c337cb93b5e72b1c7b', source: 'RFC 6113 Appendix A' },
  { etype: 19, output: 'edd02a39d2dbde31611c16e610be062c', source: 'MIT krb5 t_cf2.expected' },
  { etype: 20, output: '67f6ea530aea85a37dcbb23349ea52dcc61ca8493ff557252327fd8304341584', source: 'MIT krb5 t_cf2.expected' },
];
