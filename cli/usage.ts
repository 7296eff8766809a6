// The CLI's usage text and its usage error (exit code 2).

export const USAGE = `usage: sspi-emu <command> [options]

commands:
  run        boot the machine, run one handshake between a client and a server process
             through the LSA, exchange sealed and signed messages, print the timeline
  packages   list the packages the LSA loaded (SecPkgInfo), and any that failed and why
  decode     sspi-emu decode TOKEN|- [--json]: an NTLM message (base64 or hex) field by field
  bench      handshake and message throughput across the boundaries, against baselines

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
  --scale               also hold 1,000,000 established contexts and report the LSA's heap`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
