// The CLI's usage text and its usage error (exit code 2).

export const USAGE = `usage: sspi-emu <command> [options]

commands:
  run        boot the machine, run one handshake between a client and a server process
             through the LSA, exchange sealed and signed messages, print the timeline
  packages   list the packages the LSA loaded (SecPkgInfo), and any that failed and why

sspi-emu run [--package NAME] [--load MODULE]... [--account USER:PASSWORD]...
             [--user U] [--domain D] [--password P] [--messages N]
             [--json] [--mermaid FILE] [--chrome-trace FILE] [--quiet]
  --package NAME        the package both sides use (default: the first loaded, Example)
  --load MODULE         also load a package module (a path), like a Security Packages entry
  --account U:P         an account in the LSA's account store ("DOMAIN\\\\user:password" too);
                        repeatable; default alice:Passw0rd! and bob:Hunter2hunter2
  --user/--domain/--password   the client's explicit credentials (default: the first account)
  --messages N          sealed and signed messages each way after the handshake (default 3)
  --json                print one JSON object (status, events, lpc) instead of the timeline
  --mermaid FILE        write the handshake as a Mermaid sequence diagram
  --chrome-trace FILE   write Trace Event Format JSON (chrome://tracing, Perfetto)
  exit status: 0 when the handshake and messages succeed, 1 with the failing status, 2 on usage errors

sspi-emu packages [--load MODULE]... [--json]`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
