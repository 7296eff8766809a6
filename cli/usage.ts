// The CLI's usage text and its usage error (exit code 2).

import { EmuError, registerErrorClass } from '../ipc/index.js';

export const USAGE = `usage: sspi-emu <command> [options]

commands:
  run        boot the machine, run one handshake between a client and a server process
             through the LSA, exchange sealed and signed messages, print the timeline
  packages   list the packages the LSA loaded (SecPkgInfo), and any that failed and why
  decode     sspi-emu decode TOKEN|- [--json]: an NTLM message (base64 or hex) field by field
  bench      handshake and message throughput across the boundaries, against baselines
  fuzz       hostile tokens and messages through the LSA; checks that nothing crashes or leaks
  chaos      handshakes and messages under a seeded random schedule of injected faults
  soak       a long load (4 clients x 256 in flight, sign/seal) with ~1% of calls faulted
  serve      a server process on a real socket: HTTP or HTTPS with NTLM (RFC 4559) or TCP (MIT gss-sample)
  connect    a client process that authenticates to a gss-sample TCP server and sends a sealed message
  fetch      a client process that fetches an http:// or https:// URL with NTLM authentication

every command that boots a machine (all but decode) also takes
  --lsa-isolation thread|process   the LSA in a worker thread of this OS process (default), or in an
                        OS process of its own, out of reach of the app processes' memory

sspi-emu run [--package NAME] [--load MODULE]... [--account USER:PASSWORD]...
             [--user U] [--domain D] [--password P] [--messages N]
             [--json] [--mermaid FILE] [--chrome-trace FILE] [--quiet]
  --package NAME        the package both sides use: Example (default), NTLM, or a loaded one
  --load MODULE         also load a package module (a path), like a Security Packages entry
  --account U:P         an account in the LSA's account store ("DOMAIN\\\\user:password" too);
                        repeatable; default alice:Passw0rd! and bob:Hunter2hunter2
  --user/--domain/--password   the client's explicit credentials (default: the first account)
  --messages N          sealed and signed messages each way after the handshake (default 3)
  --json                print one JSON object (status, events, lpc) instead of the timeline
  --mermaid FILE        write the handshake as a Mermaid sequence diagram
  --chrome-trace FILE   write Trace Event Format JSON (chrome://tracing, Perfetto)
  exit status: 0 when the handshake and messages succeed, 1 with the failing status, 2 on usage errors

sspi-emu packages [--load MODULE]... [--json]

sspi-emu bench [--package NAME]... [--concurrency 1,8,64,256] [--clients 1,2,4] [--duration S]
               [--quick] [--scale] [--json FILE] [--svg FILE]
  --package NAME        a package to measure (repeatable; default null, example, ntlm)
  --quick               small figures in under a minute; the default takes minutes, with
                        warm-up, 3 repetitions, median with min and max
  --scale               also hold 1,000,000 established contexts and report the LSA's heap

sspi-emu fuzz [--package ntlm|example]... [--iterations N] [--seed S] [--target tokens|messages|all]
              [--generator NAME]... [--start I] [--lanes L] [--json FILE]
  --iterations N        inputs per package, shared by its generators (default 10000)
  --seed S              the run's seed (default 1); input I of a generator is the same in every run
  --generator NAME      only this generator (e.g. ntlm/authenticate); with --start I --iterations 1
                        it replays one input
  exit status: 0 when every invariant held (no exception, no SEC_E_INTERNAL_ERROR, only documented
  answers, the LSA alive and serving, no context left, the LSA heap flat), 1 otherwise

sspi-emu serve --http|--https|--tcp --port P [--host 127.0.0.1] [--package ntlm] [--load MODULE]...
               [--account USER:PASSWORD]... [--timeout MS] [--keep-alive MS]
               [--max-connections N] [--trace FILE] [--quiet]
               [--cert FILE --key FILE] [--extended-protection none|allowed|required]
  --port P              0 picks a free port; the first line of stdout is "listening on HOST:PORT"
  --https               HTTP over TLS; without --cert/--key a self-signed certificate is made, and the
                        second line of stdout gives the certificate's SHA-256 fingerprint
  --cert/--key FILE     the certificate (PEM, its chain after it) and its private key (PEM)
  --extended-protection channel bindings (RFC 5929 tls-server-end-point) in AcceptSecurityContext:
                        none (not passed), allowed (default: a client without bindings passes),
                        required (a client must send the bindings of this server's certificate)
  --timeout MS          HTTP: a request's headers must arrive within MS; TCP: each token (default 10000)
  --keep-alive MS       HTTP: an idle kept-alive connection is closed after MS (default 5000)
  --trace FILE          record the trace (sockets and SSPI calls) and write the timeline on stop
  one line per HTTP request (method, path, user, status, handshake time) or TCP connection;
  SIGINT/SIGTERM close every connection, delete its context, and exit 0

sspi-emu connect --tcp HOST:PORT --user [DOMAIN\\]U --password P [--domain D] [--package ntlm]
                 [--message TEXT] [--target SERVICE] [--timeout MS] [--trace FILE]
  the MIT gss-sample protocol (peers: serve --tcp, MIT gss-server); exit 0 when the server's
  signature over the sealed message verified

sspi-emu fetch URL --user [DOMAIN\\]U --password P [--domain D] [--package ntlm] [-i]
               [--timeout MS] [--trace FILE]
               [--insecure | --ca FILE | --fingerprint SHA256] [--no-channel-bindings]
  prints the status line, the headers with -i, and the body; exit 0 on a 2xx answer
  https:// URLs: the server's certificate is checked against the system's CAs and the host name,
  or against --ca FILE (PEM), or must have the SHA-256 --fingerprint; -k/--insecure checks nothing;
  the AUTHENTICATE carries the channel bindings of the certificate the server presented, unless
  --no-channel-bindings (a client that predates Extended Protection)

sspi-emu chaos [--package example|ntlm] [--duration S] [--seed N] [--clients N] [--json FILE]
  kills clients, servers and the LSA at named call points (the LSA is restarted), stalls
  processes, drops/duplicates/delays/reorders LPC messages and makes package entry points throw
  or hang; exit 0 only with no hang and nothing left in the LSA once every dead process is reaped

sspi-emu soak [--package example|ntlm|null] [--duration S] [--fault-rate 0.01] [--in-flight 256]
              [--seed N] [--json FILE]
  half the time without faults, half with; exit 0 when the LSA's handles are back at the
  baseline after reaping, its heap did not grow, and the p99 of healthy handshakes stayed within
  2x (default duration 600 s)`;

/** A command line that cannot be run as written; the message says what to change. */
export class UsageError extends EmuError<'USAGE'> {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}
registerErrorClass('UsageError', UsageError as unknown as new (code: 'USAGE', message: string) => UsageError, ['USAGE']);
