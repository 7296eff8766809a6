// The CLI's usage text, one section per command (`sspi-emu CMD --help` prints its own), and its
// usage error (exit code 2: one line and a hint, never the whole text).

import { EmuError, registerErrorClass } from '../ipc/index.js';

const OVERVIEW = `usage: sspi-emu <command> [options]

commands:
  run        boot the machine, run one handshake between a client and a server process
             through the LSA, exchange sealed and signed messages, print the timeline;
             --domain: a DC, a member server and a workstation, each its own OS process
  packages   list the packages the LSA loaded (SecPkgInfo), and any that failed and why
  decode     an NTLM message, SPNEGO token or Kerberos message (base64 or hex) field by field
  bench      handshake and message throughput across the boundaries, against baselines
  fuzz       hostile tokens and messages through the LSA; checks that nothing crashes or leaks
  chaos      handshakes and messages under a seeded random schedule of injected faults
  soak       a long load (4 clients x 256 in flight, sign/seal) with ~1% of calls faulted
  serve      a server process on a real socket: HTTP with Negotiate/NTLM (RFC 4559) or TCP (MIT gss-sample)
  connect    a client process that authenticates to a gss-sample TCP server and sends a sealed message
  fetch      a client process that fetches an http:// or https:// URL with NTLM or Negotiate authentication
  dc         a domain controller: its LSA runs a KDC (Kerberos AS and TGS) on UDP and TCP, and
             Netlogon, which its members' NTLM passes domain users' logons through to
  check      the conformance suite against a package: 30 checks, pass, FAIL or skip, and why
  new-package  write a package project (from the example package) that builds and passes check

every command that boots a machine (all but decode and new-package) also takes
  --lsa-isolation thread|process   the LSA in a worker thread of this OS process (default), or in an
                        OS process of its own, out of reach of the app processes' memory

sspi-emu COMMAND --help prints the options of one command; sspi-emu --version the version.
A package module named with --load that fails to load is an error on every command (exit 1).
A command whose output's reader goes away (sspi-emu run | head -1) ends there, quietly (exit 141).`;

/** The debugging options of run and serve, in place of INSPECT_USAGE in their sections. */
const INSPECT_USAGE = `  --inspect PROCESS     open the V8 inspector in that process alone (lsa, client, server; serve: lsa,
                        server), on 127.0.0.1:9229 (the next one 9230, ...) or :PORT, :HOST:PORT;
                        its ws:// URL goes to stderr; a breakpoint there pauses that process only
  --inspect-brk PROCESS the same, and the process waits for a debugger before it starts (the LSA
                        before it loads its packages)
  --deadline MS         every deadline of the machine (LPC calls, package calls, the machine's calls
                        on processes, boot steps, an app's wait for its peer); while inspecting, 10
                        minutes unless given`;

/** The trace files, in place of TRACE_USAGE in the sections of dc, serve, connect and fetch. */
const TRACE_USAGE = `  --trace FILE          record the trace and write the timeline (text) when the command ends
  --trace-json FILE     the same events as JSON with absolute times (ms since the Unix epoch), to merge
                        with other machines' files on one clock (run --domain does)`;

/** The Kerberos realm options, in place of REALM_USAGE in the sections of the commands that take them. */
const REALM_USAGE = `  --realm R             the machine is in Kerberos realm R (the Kerberos package's settings)
  --kdc HOST[:PORT]     the realm's KDC (port 88 by default; repeatable: tried in order)
  --keytab FILE         the machine's service keys (an MIT keytab), for the acceptor`;

/** A section with the shared option texts in place. */
const expand = (section: string): string =>
  section.replace('INSPECT_USAGE', INSPECT_USAGE).replace('REALM_USAGE', REALM_USAGE).replace('TRACE_USAGE', TRACE_USAGE);

/** Each command's section of the usage, by command name. */
const COMMANDS: ReadonlyMap<string, string> = new Map([
  [
    'run',
    `sspi-emu run [--package NAME] [--load MODULE]... [--account USER:PASSWORD]...
             [--user U] [--domain D] [--password P] [--messages N] [--target SERVICE]
             [--realm R [--kdc HOST[:PORT]]... [--keytab FILE]] [--dc HOST:PORT --machine NAME:SECRET]
             [--json] [--html FILE] [--mermaid FILE] [--chrome-trace FILE] [--quiet] [--watch] [--klist]
             [--inspect PROCESS[:[HOST:]PORT]]... [--inspect-brk PROCESS[:[HOST:]PORT]]... [--deadline MS]
  --package NAME        the package both sides use: Example (default), NTLM, Negotiate, or a loaded one
  --load MODULE         also load a package module (a path), like a Security Packages entry
  --account U:P         an account in the LSA's account store ("DOMAIN\\\\user:password" too);
                        repeatable; default alice:Passw0rd! and bob:Hunter2hunter2
  --user/--domain/--password   the client's explicit credentials (default: the first account)
  --dc HOST:PORT --machine NAME:SECRET
                        the machine joins --domain as machine NAME (dc --machine NAME:SECRET): the
                        server's NTLM passes the client's logon through to the DC's Netlogon
  --messages N          sealed and signed messages each way after the handshake, 0 to 100000 (default 3)
  --target SERVICE      the client's target name (Kerberos: host/server.example.test or host@server)
  --klist               the client runs as the first account's logon (no --user/--domain/--password)
                        and, after the run, prints that logon's Kerberos tickets as klist does
                        (LsaCallAuthenticationPackage, KerbQueryTicketCacheExMessage); in --json, "klist"
REALM_USAGE
  --json                print one JSON object (status, events, lpc) instead of the timeline
  --html FILE           write one self-contained page: the sequence diagram, the timeline as tracks
                        per process, each token decoded on a click (opens offline)
  --mermaid FILE        write the handshake as a Mermaid sequence diagram
  --chrome-trace FILE   write Trace Event Format JSON (chrome://tracing, Perfetto)
  --quiet               only the result lines, no timeline
  --watch               stay up: when a --load module's files change, the LSA reloads it (no
                        reboot) and the run is made again; SIGINT (Ctrl-C) ends it
INSPECT_USAGE
  exit status: 0 when the handshake and messages succeed, 1 with the status that failed first
  (or a package module that failed to load), 2 on usage errors; with --watch, the last run's

sspi-emu run --domain [--package Negotiate|Kerberos|NTLM] [--http] [--realm R] [--account USER:PASSWORD]...
             [--user [DOMAIN\\]U] [--password P] [--load MODULE]... [--message TEXT] [--lsa-isolation thread|process]
             [--deadline MS] [--json] [--html FILE] [--mermaid FILE] [--chrome-trace FILE] [--quiet]
  --domain              (no value) three machines, each its own OS process, on loopback sockets: a
                        domain controller (sspi-emu dc: its KDC, the --account users, a service
                        principal for the member, its machine account), a member server (serve
                        --tcp, or --http) with the keytab the DC exported, joined to the DC (its NTLM
                        passes logons through) and with no domain user's password, and a workstation
                        (connect, or fetch) logging on as --user (default the first account) through
                        the DC's KDC; then the three timelines on one clock, each line with its machine
  --package NAME        what the member and the workstation use: Negotiate (default; picks Kerberos),
                        Kerberos, NTLM
  --realm R             the domain's realm (default EXAMPLE.TEST)
  --deadline MS         how long each machine may take to start, and the workstation to finish
                        (default 60000); past it every machine is stopped and the late one named
  each machine's start is told on stderr (its pid); SIGINT/SIGTERM stop every machine (exit 130); a
  machine that fails to start or dies is named with its stderr (exit 1); --domain D with a value is
  the client's domain of a one-machine run`,
  ],
  [
    'packages',
    `sspi-emu packages [--load MODULE]... [--json]
  lists each loaded package's SecPkgInfo and every package module that failed to load, with the
  stage (resolve, import, SpLsaModeInitialize, SpInitialize, SpGetInfo) and the reason
  exit status: 0 when every package loaded, 1 when one failed (each failure a line on stderr;
  in --json, under "failed")`,
  ],
  [
    'decode',
    `sspi-emu decode TOKEN|- [--keytab FILE]... [--key ETYPE:HEX]... [--password PRINCIPAL@REALM:PASSWORD]... [--json]
  TOKEN is hex (read as hex whenever it is valid hex) or base64, with or without an "NTLM " or
  "Negotiate " scheme; - reads it from stdin
  Kerberos messages (AS-REQ/REP, TGS-REQ/REP, AP-REQ/REP, KRB-CRED, KRB-ERROR), bare or in the
  GSS-API framing (RFC 4121) or inside SPNEGO, are shown with their encrypted parts left
  encrypted unless a key opens them:
  --keytab FILE         the keys of an MIT keytab (sspi-emu dc --export-keytab, ktutil, ktpass)
  --key ETYPE:HEX       a raw key; ETYPE by name (aes256-cts-hmac-sha1-96) or number (18)
  --password PRINCIPAL@REALM:PASSWORD   the principal's keys by string-to-key (default salt)
  each is repeatable; the keys a part opens (a ticket's session key, an authenticator's subkey)
  open the parts after it; the key used, the plaintext and the keys found (in hex) are shown
  exit status: 0 when it is an NTLM message, a SPNEGO token or a Kerberos message (whether or not
  a key opened its parts), 1 otherwise (with the offset of the problem) or when a keytab cannot
  be read, 2 for a malformed --key or --password`,
  ],
  [
    'bench',
    `sspi-emu bench [--package NAME]... [--load MODULE]... [--concurrency 1,8,64,256] [--clients 1,2,4]
               [--duration S] [--quick] [--scale] [--json FILE] [--svg FILE]
  --package NAME        a package to measure (repeatable; default null, example, ntlm, negotiate)
  --load MODULE         measure a package module of yours (repeatable); --package NAME then picks
                        it by its SecPkgInfo Name
  --concurrency LIST    handshakes in flight, each from 1
  --clients LIST        client processes, each from 1 to 4
  --duration S          seconds per measurement, more than 0
  --quick               short windows, three to four minutes; the default takes about 20, with
                        warm-up, 3 repetitions, median with min and max
  --scale               also hold 1,000,000 established contexts and report the LSA's heap
  progress on stderr (a line per step when it is not a terminal); a part that fails is said and
  left out, the rest measured (exit 1); Ctrl-C writes what was measured (exit 130)`,
  ],
  [
    'fuzz',
    `sspi-emu fuzz [--package NAME]... [--load MODULE]... [--generic] [--iterations N] [--seed S]
              [--target tokens|messages|all] [--generator NAME]... [--start I] [--lanes L] [--json FILE]
  --package NAME        ntlm, example, negotiate or kerberos (their own generators; default all
                        four; kerberos boots a domain controller machine for its KDC, and for
                        kerberos/kdc-reply a rogue KDC on loopback in front of it), or with
                        --load a package of the module by its SecPkgInfo Name (default: all of them)
  --load MODULE         fuzz the packages of a module of yours with the generic generators:
                        variants of its own tokens at each leg, and of its signed and sealed messages
  --generic             the generic generators for the built-in packages too, instead of their own
  --iterations N        inputs per package, shared by its generators, from 1 (default 10000)
  --seed S              the run's seed, 0 to 4294967295 (default 1); input I of a generator is the
                        same in every run
  --generator NAME      only this generator (e.g. ntlm/authenticate, generic/accept-token); with
                        --start I --iterations 1 it replays one input
  --lanes L             inputs in flight, 1 to 256 (default 16)
  exit status: 0 when every invariant held (no exception, no SEC_E_INTERNAL_ERROR, only documented
  answers, the LSA alive and serving, no context left, the LSA heap flat), 1 otherwise (the first
  offending input with the command that replays it) or when a --load module does not load`,
  ],
  [
    'chaos',
    `sspi-emu chaos [--scenario machine|domain] [--package example|ntlm|negotiate] [--duration S] [--seed N]
               [--clients N] [--json FILE]
  --duration S          seconds, more than 0 (default 30)
  --clients N           client processes, 1 to 64 (default 3); with --scenario domain, lanes of each
                        kind, 1 to 16 (default 2)
  --scenario machine    (default) kills clients, servers and the LSA at named call points (the LSA
                        is restarted), stalls processes, drops/duplicates/delays/reorders LPC
                        messages and makes package entry points throw or hang; exit 0 only with no
                        hang and nothing left in the LSA once every dead process is reaped
  --scenario domain     a domain controller killed (then restarted) or stalled at NetrLogonSamLogonEx,
                        AS-REQ or TGS-REQ while a member server's clients authenticate with NTLM
                        (passed through) and Kerberos (tickets from the DC); exit 0 only with no hang, every
                        failure SEC_E_NO_AUTHENTICATING_AUTHORITY, and every lane succeeding again
                        once the DC is back`,
  ],
  [
    'soak',
    `sspi-emu soak [--package example|ntlm|negotiate|null] [--duration S] [--fault-rate 0.01] [--in-flight 256]
              [--seed N] [--json FILE]
  --duration S          seconds, more than 0 (default 600)
  --fault-rate R        the share of calls faulted, 0 to 1 (default 0.01)
  --in-flight N         handshakes in flight per client, 1 to 4096 (default 256)
  half the time without faults, half with; exit 0 when the LSA's handles are back at the
  baseline after reaping, its heap did not grow, and the p99 of healthy handshakes stayed within
  2x`,
  ],
  [
    'serve',
    `sspi-emu serve --http|--https|--tcp --port P [--host 127.0.0.1] [--package ntlm|negotiate] [--load MODULE]...
               [--account USER:PASSWORD]... [--timeout MS] [--keep-alive MS]
               [--max-connections N] [--trace FILE] [--trace-json FILE] [--quiet] [--watch]
               [--inspect PROCESS[:[HOST:]PORT]]... [--inspect-brk PROCESS[:[HOST:]PORT]]... [--deadline MS]
               [--cert FILE --key FILE] [--extended-protection none|allowed|required]
               [--realm R [--kdc HOST[:PORT]]... [--keytab FILE]]
               [--domain D --dc HOST:PORT --machine NAME:SECRET]
  --port P              0 to 65535; 0 picks a free port; the first line of stdout is "listening on HOST:PORT"
  --http                WWW-Authenticate: Negotiate then NTLM (RFC 4559; Negotiate when its package is
                        loaded), either accepted; --package negotiate offers Negotiate alone
  --https               HTTP over TLS; without --cert/--key a self-signed certificate is made; the
                        second line of stdout gives the certificate's SHA-256 fingerprint
  --cert/--key FILE     the certificate (PEM, its chain after it) and its private key (PEM)
  --extended-protection channel bindings (RFC 5929 tls-server-end-point) in AcceptSecurityContext:
                        none (not passed), allowed (default: a client without bindings passes),
                        required (a client must send the bindings of this server's certificate)
  --timeout MS          HTTP: a request's headers must arrive within MS; TCP: each token (default 10000)
  --keep-alive MS       HTTP: an idle kept-alive connection is closed after MS (default 5000)
  --max-connections N   connections at once, from 1
TRACE_USAGE
  --watch               reload a --load module in the running LSA when its files change: new
                        handshakes use the new version (a line on stdout; why not, on stderr)
REALM_USAGE
  --domain D --dc HOST:PORT --machine NAME:SECRET
                        join domain D (EXAMPLE or EXAMPLE.TEST) as machine NAME, whose secret the DC
                        was given (dc --machine NAME:SECRET): NTLM logons of the domain's users pass
                        through to the DC's Netlogon at HOST:PORT (no DC in time, or a DC that refuses
                        the machine: SEC_E_NO_AUTHENTICATING_AUTHORITY); --account users stay local
INSPECT_USAGE
  one line per HTTP request (method, path, user, status, handshake time) or TCP connection;
  SIGINT/SIGTERM close every connection, delete its context, and exit 0`,
  ],
  [
    'connect',
    `sspi-emu connect --tcp HOST:PORT --user [DOMAIN\\]U --password P [--domain D] [--package ntlm]
                 [--load MODULE]... [--message TEXT] [--target SERVICE] [--timeout MS]
                 [--trace FILE] [--trace-json FILE] [--realm R [--kdc HOST[:PORT]]...]
REALM_USAGE
TRACE_USAGE
  the MIT gss-sample protocol (peers: serve --tcp, MIT gss-server); exit 0 when the server's
  signature over the sealed message verified, 1 when the authentication failed, 3 on a network
  failure (refused, closed, the server hung up, a name that does not resolve)`,
  ],
  [
    'fetch',
    `sspi-emu fetch URL --user [DOMAIN\\]U --password P [--domain D] [--package ntlm|Negotiate] [--load MODULE]...
               [-i] [--timeout MS] [--trace FILE] [--trace-json FILE]
               [--insecure | --ca FILE | --fingerprint SHA256] [--no-channel-bindings]
               [--realm R [--kdc HOST[:PORT]]...]
  prints the status line, the headers with -i, and the body; exit 0 on a 2xx answer, 1 on another
  answer, a failed authentication or a certificate not trusted, 3 on a network failure (refused,
  closed, the server hung up, a name that does not resolve)
  --package Negotiate   "Authorization: Negotiate" (RFC 4559, SPNEGO) instead of "NTLM": Kerberos
                        inside when the machine is in a realm and the KDC has HTTP/HOST (one request),
                        else NTLM; the server's final token with its 200 must verify (the AP-REP, or
                        NTLM's mechListMIC), or the answer is refused
REALM_USAGE
TRACE_USAGE
  https:// URLs: the server's certificate is checked against the system's CAs and the host name,
  or against --ca FILE (PEM), or must have the SHA-256 --fingerprint; -k/--insecure checks nothing;
  the connection is made before the first token, and every token (NTLM's AUTHENTICATE, Kerberos'
  AP-REQ) is bound to the certificate the server presented on it, unless --no-channel-bindings
  (a client that predates Extended Protection)`,
  ],
  [
    'dc',
    `sspi-emu dc --realm R --port P [--host 127.0.0.1] [--account USER:PASSWORD]... [--service SPN[:PASSWORD]]...
            [--machine NAME:SECRET]... [--netlogon-port P] [--export-keytab FILE] [--work-pool N]
            [--trace FILE] [--trace-json FILE] [--quiet]
  --realm R             the realm, its DNS domain in capitals (EXAMPLE.TEST)
  --port P              0 to 65535, UDP and TCP; 0 picks a free port; the first line of stdout is
                        "kdc listening on HOST:PORT"
  --host H              the address to listen on (default 127.0.0.1)
  --account U:P         a user (U@R, its keys made from P with the salt R + U); repeatable; default
                        alice:Passw0rd! and bob:Hunter2hunter2
  --service SPN[:P]     a service principal (host/server.example.test): with P its keys are made
                        from P, without a random key of each etype; repeatable
  --machine NAME:SECRET a member's machine account (NAME$) and the secret it joins with (serve or run
                        --domain D --dc HOST:PORT --machine NAME:SECRET); repeatable
  --netlogon-port P     Netlogon's TCP port, 0 to 65535 (default 0, a free one); the second line of
                        stdout is "netlogon listening on HOST:PORT"
  --export-keytab FILE  write an MIT keytab (0x0502, mode 0600) of the services' keys before the first
                        line, for MIT acceptors (gss-server -keytab FILE)
  --work-pool N         the LSA's work pool, where string-to-key runs: 0 (off) to 64 threads (default 1)
  --quiet               no line per request
TRACE_USAGE
  then one line per request: AS-REQ or TGS-REQ, client -> service, the result (OK and the session
  key's etype, or the KRB-ERROR's name and why), transport, peer, time; and one per Netlogon call
  (NetrServerReqChallenge, NetrServerAuthenticate3, NetrLogonSamLogonEx), the machine account, the
  status; SIGINT/SIGTERM stop it and print the counts (exit 0); exit 1 when the LSA dies, 2 on
  usage errors`,
  ],
  [
    'check',
    `sspi-emu check (--load MODULE... [--package NAME] | --package NAME) [--timeout MS] [--json]
               [--inspect PROCESS[:[HOST:]PORT]]... [--inspect-brk PROCESS[:[HOST:]PORT]]...
  --load MODULE         check the packages of this module (repeatable), loaded beside the defaults
  --package NAME        check only this package (its SecPkgInfo Name); a built-in one loads itself
  --timeout MS          an entry point that has not returned after MS fails (default 10000)
  --json                the report as data: ok, failed, and each check's name, outcome, why, detail
  --inspect PROCESS     open the inspector of lsa, client or server in each machine the suite boots
                        (see run --help); package calls then fail after 10 minutes unless --timeout
  exit status: 0 when no check failed, 1 naming the failures, 2 on usage errors`,
  ],
  [
    'new-package',
    `sspi-emu new-package NAME [DIR] [--sspi-emu SPEC]
  NAME                  the package's SecPkgInfo Name: a letter, then letters, digits, - or _
  DIR                   where to write the project (default ./name, lower case): absent or empty
  --sspi-emu SPEC       the dependency on sspi-emu: a path to a checkout or an npm pack tarball
                        (written as a relative file: path) or any npm spec; default ^<this version>`,
  ],
]);

/** The whole usage: the overview, then every command's section. */
export const USAGE = [OVERVIEW, ...[...COMMANDS.values()].map(expand)].join('\n\n');

/** The overview alone: what `sspi-emu` with no command prints. */
export const USAGE_OVERVIEW = OVERVIEW;

/** What every command that boots a machine (all but decode and new-package) also takes. */
const ISOLATION_USAGE = `  --lsa-isolation thread|process   the LSA in a worker thread of this OS process (default), or in
                        an OS process of its own, out of reach of the app processes' memory`;

/** One command's section of the usage (the whole usage for a command without one). */
export function commandUsage(command: string): string {
  const section = COMMANDS.get(command);
  if (section === undefined) return USAGE;
  return command === 'decode' || command === 'new-package' ? expand(section) : `${expand(section)}\n${ISOLATION_USAGE}`;
}

/** A command line that cannot be run as written; the message says what to change. */
export class UsageError extends EmuError<'USAGE'> {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}
registerErrorClass('UsageError', UsageError as unknown as new (code: 'USAGE', message: string) => UsageError, ['USAGE']);
