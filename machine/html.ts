// A run as one self-contained HTML page, to look at rather than read: the sequence diagram drawn
// as an SVG picture (a lifeline per process, the calls that cross between them as arrows, the
// tokens on the arrows with their sizes), the timeline as tracks per process with each call a span
// nested in the calls around it, and every token and call clickable to its details (a token
// decoded field by field by the token decoders, with its bytes). Everything is drawn here, from
// the trace; the page has its CSS and its few lines of script inline and loads nothing, so it
// opens offline, from a file.

import type { TraceEvent } from '../ipc/index.js';
import { isLsaParticipant, participantOf as who } from './render.js';
import { type DecodedToken, type Described, decodeToken, type TokenDecoder, tokenDecoders } from './token-decoders.js';

export interface HtmlOptions {
  /** The page's title (and heading). */
  title?: string;
  /** Lines under the heading: the run's result, say. */
  summary?: readonly string[];
  /** The token decoders, tried in order; default the registered ones (token-decoders.ts). */
  decoders?: readonly TokenDecoder[];
}

/** SSPI functions an app process's library sends to the LSA over LPC. */
const LPC_APIS = new Set([
  'EnumerateSecurityPackages',
  'QuerySecurityPackageInfo',
  'AcquireCredentialsHandle',
  'FreeCredentialsHandle',
  'InitializeSecurityContext',
  'AcceptSecurityContext',
  'DeleteSecurityContext',
  'ApplyControlToken',
  'QueryCredentialsAttributes',
  'ExportSecurityContext',
  'ImportSecurityContext',
]);
/** Message functions: they run in the app process, on the package's user-mode half, and send no LPC message. */
const MESSAGE_APIS = new Set(['MakeSignature', 'VerifySignature', 'EncryptMessage', 'DecryptMessage']);
/** Calls in the app process worth a note on its lifeline. */
const IN_PROCESS_NOTES = new Set([
  'SpUserModeInitialize',
  'SpInstanceInit',
  'SpInitUserModeContext',
  'SpDeleteUserModeContext',
  'LsaCallbackFunction',
  'QueryContextAttributes',
  'CompleteAuthToken',
]);

interface Token {
  id: string;
  bytes: Uint8Array;
  decoded: DecodedToken | undefined;
  /** Where it was seen: "client InitializeSecurityContext out", ... */
  seen: string[];
}

interface Span {
  id: string;
  process: string;
  call: string;
  start: TraceEvent;
  end: TraceEvent | undefined;
  lane: number;
}

/** One row of the sequence diagram. */
type Step =
  | { kind: 'arrow'; from: string; to: string; label: string; dashed: boolean; failed: boolean; token?: Token; show?: string }
  | { kind: 'note'; on: string; label: string; failed: boolean; show?: string }
  | { kind: 'divider'; label: string };

export function formatHtml(events: readonly TraceEvent[], options: HtmlOptions = {}): string {
  const decoders = options.decoders ?? tokenDecoders();
  const processes = lifelineOrder(events);
  const tokens = new Map<string, Token>();
  const tokenOf = (base64: string | undefined, where: string): Token | undefined => {
    if (base64 === undefined) return undefined;
    let token = tokens.get(base64);
    if (token === undefined) {
      const bytes = new Uint8Array(Buffer.from(base64, 'base64'));
      token = { id: `t${tokens.size + 1}`, bytes, decoded: bytes.byteLength === 0 ? undefined : decodeToken(bytes, decoders), seen: [] };
      tokens.set(base64, token);
    }
    token.seen.push(where);
    return token;
  };
  const spans = pairSpans(events);
  const spanOfEvent = new Map<TraceEvent, Span>();
  for (const span of spans) {
    spanOfEvent.set(span.start, span);
    if (span.end !== undefined) spanOfEvent.set(span.end, span);
  }
  const steps = sequenceSteps(events, processes, tokenOf, spanOfEvent);
  const title = options.title ?? 'sspi-emu run';
  const instants = new Map(events.filter((e) => e.phase === 'event').map((e, i) => [e, `e${i + 1}`]));

  const details = [
    ...[...tokens.values()].map(tokenDetail),
    ...spans.map((span) => spanDetail(span, tokens)),
    ...[...instants].map(([e, id]) => eventDetail(e, id)),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
${(options.summary ?? []).map((line) => `<p class="summary">${esc(line)}</p>`).join('\n')}
<p class="legend">${processes.length} processes, ${events.length} trace events, ${tokens.size} tokens. Click a token <span class="chip">▣ n B</span> or a call to see it in the panel.</p>
</header>
<div class="layout">
<main>
<section id="sequence"><h2>Sequence diagram</h2><div class="scroll">${sequenceSvg(steps, processes, events)}</div></section>
<section id="timeline"><h2>Timeline</h2><p class="hint">Time in ms since the machine booted; each call is a span from its call to its return, nested in the calls it ran within. <label>Zoom <select id="zoom">${[1, 2, 5, 10, 20, 50, 100].map((z) => `<option value="${z}">${z}×</option>`).join('')}</select></label></p><div class="scroll">${timelineSvg(events, spans, processes, instants)}</div></section>
</main>
<aside id="detail" aria-live="polite">
<p class="hint" id="detail-hint">Nothing selected yet: click a token or a call.</p>
${details.join('\n')}
</aside>
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Processes, spans
// ---------------------------------------------------------------------------------------------

/**
 * Clients, the LSA, servers, then any other process, each in the order it first appears. Merged
 * from several machines: the clients, their machine's LSA, the LSAs of machines with neither (a
 * DC's), the servers' machine's LSA, the servers.
 */
function lifelineOrder(events: readonly TraceEvent[]): string[] {
  const processOf = new Map<string, string>();
  for (const e of events) if (!processOf.has(who(e))) processOf.set(who(e), e.process);
  const all = [...processOf.keys()];
  const clients = all.filter((p) => processOf.get(p)!.startsWith('client'));
  const servers = all.filter((p) => processOf.get(p)!.startsWith('server'));
  const machineOf = (p: string): string => p.slice(0, p.length - processOf.get(p)!.length);
  const rank = (lsa: string): number =>
    clients.some((c) => machineOf(c) === machineOf(lsa)) ? 0 : servers.some((s) => machineOf(s) === machineOf(lsa)) ? 2 : 1;
  const lsas = all.filter((p) => processOf.get(p) === 'lsa').sort((a, b) => rank(a) - rank(b));
  const rest = all.filter((p) => processOf.get(p) !== 'lsa' && !clients.includes(p) && !servers.includes(p));
  return [...clients, ...lsas, ...servers, ...rest];
}

/**
 * Each call with its return, per process (and, in the LSA, per process it works for: it serves
 * several at once), innermost first; a call with no return is a span to the end of the trace.
 * Lanes: a span sits below every span that contains it, in the first lane free at its start.
 */
function pairSpans(events: readonly TraceEvent[]): Span[] {
  const spans: Span[] = [];
  const open = new Map<string, Span[]>();
  for (const e of events) {
    const key = `${who(e)}|${e.peer ?? ''}|${e.call}`;
    if (e.phase === 'call') {
      const span: Span = { id: `s${spans.length + 1}`, process: who(e), call: e.call, start: e, end: undefined, lane: 0 };
      spans.push(span);
      open.set(key, [...(open.get(key) ?? []), span]);
    } else if (e.phase === 'return') {
      const stack = open.get(key);
      const span = stack?.pop();
      if (span !== undefined) span.end = e;
    }
  }
  const last = events.at(-1)?.t ?? 0;
  const endOf = (s: Span): number => s.end?.t ?? last;
  const byProcess = new Map<string, Span[]>();
  for (const s of spans) byProcess.set(s.process, [...(byProcess.get(s.process) ?? []), s]);
  for (const list of byProcess.values()) {
    const ordered = [...list].sort((a, b) => a.start.t - b.start.t || endOf(b) - endOf(a));
    const laneEnds: number[] = [];
    const placed: Span[] = [];
    for (const s of ordered) {
      const within = placed.filter((p) => p.start.t <= s.start.t && endOf(s) <= endOf(p));
      let lane = within.length === 0 ? 0 : Math.max(...within.map((p) => p.lane)) + 1;
      while ((laneEnds[lane] ?? -Infinity) > s.start.t) lane++;
      s.lane = lane;
      laneEnds[lane] = endOf(s);
      placed.push(s);
    }
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------
// The sequence diagram
// ---------------------------------------------------------------------------------------------

// A KDC request that succeeded returns "OK" (its KRB-ERROR codes otherwise).
const failedStatus = (status: string | undefined): boolean => status !== undefined && !/^(SEC_E_OK|SEC_I_|STATUS_SUCCESS|OK$)/.test(status);

function sequenceSteps(
  events: readonly TraceEvent[],
  processes: readonly string[],
  tokenOf: (base64: string | undefined, where: string) => Token | undefined,
  spanOfEvent: ReadonlyMap<TraceEvent, Span>,
): Step[] {
  const steps: Step[] = [];
  const processOf = new Map<string, string>();
  for (const e of events) if (!processOf.has(who(e))) processOf.set(who(e), e.process);
  const clients = processes.filter((p) => processOf.get(p)?.startsWith('client'));
  const servers = processes.filter((p) => processOf.get(p)?.startsWith('server'));
  const peerOf = (p: string): string | undefined =>
    processOf.get(p)?.startsWith('client') ? servers[0] : processOf.get(p)?.startsWith('server') ? clients[0] : undefined;
  let dividedPhases = false;
  for (const e of events) {
    const show = spanOfEvent.get(e)?.id;
    const failed = failedStatus(e.status);
    const lsa = who(e, 'lsa');
    if (e.process === 'lsa') {
      if (e.peer === undefined) continue;
      const peer = who(e, e.peer);
      if (!processes.includes(peer)) {
        // A request from the network (a domain controller's KDC: AS-REQ from 127.0.0.1:PORT), in a merged trace.
        if (e.machine !== undefined && e.phase === 'return')
          steps.push({ kind: 'note', on: lsa, label: `${e.call} from ${e.peer}: ${e.status ?? ''}`, failed, ...(show && { show }) });
        continue;
      }
      if (e.call === 'MappedContext') {
        const size = /ContextData (\d+) bytes/.exec(e.detail ?? '')?.[1];
        steps.push({
          kind: 'arrow',
          from: lsa,
          to: peer,
          label: `MappedContext: ContextData${size === undefined ? '' : ` ${size} B`}`,
          dashed: true,
          failed: false,
        });
      } else if (e.call.startsWith('Sp') && e.phase === 'call')
        steps.push({ kind: 'note', on: lsa, label: `${e.call} (for ${e.peer})`, failed: false, ...(show && { show }) });
      else if (e.call.startsWith('Sp') && e.phase === 'return' && failed)
        steps.push({ kind: 'note', on: lsa, label: `${e.call} ${e.status}`, failed, ...(show && { show }) });
      else if (!e.call.startsWith('Sp') && e.phase === 'call')
        steps.push({ kind: 'arrow', from: lsa, to: peer, label: e.call, dashed: false, failed: false, ...(show && { show }) });
      else if (!e.call.startsWith('Sp') && e.phase === 'return')
        steps.push({ kind: 'arrow', from: peer, to: lsa, label: e.status ?? '', dashed: true, failed, ...(show && { show }) });
      continue;
    }
    const me = who(e);
    const peer = peerOf(me);
    if (LPC_APIS.has(e.call) && processes.includes(lsa)) {
      if (e.phase === 'call') {
        const token = tokenOf(e.tokenIn, `${me} ${e.call}, in`);
        steps.push({ kind: 'arrow', from: me, to: lsa, label: e.call, dashed: false, failed: false, ...(token && { token }), ...(show && { show }) });
      } else if (e.phase === 'return') {
        const token = tokenOf(e.tokenOut, `${me} ${e.call}, out`);
        steps.push({ kind: 'arrow', from: lsa, to: me, label: e.status ?? '', dashed: true, failed, ...(token && { token }), ...(show && { show }) });
        if (token !== undefined && token.bytes.byteLength > 0 && peer !== undefined)
          steps.push({ kind: 'arrow', from: me, to: peer, label: 'token', dashed: false, failed: false, token });
      }
    } else if (MESSAGE_APIS.has(e.call) && e.phase === 'return') {
      steps.push({ kind: 'note', on: me, label: `${e.call} ${e.status ?? ''} (no LPC)`, failed, ...(show && { show }) });
      if (peer !== undefined && !failed && (e.call === 'EncryptMessage' || e.call === 'MakeSignature'))
        steps.push({
          kind: 'arrow',
          from: me,
          to: peer,
          label: e.call === 'EncryptMessage' ? 'sealed message' : 'signed message',
          dashed: false,
          failed: false,
        });
    } else if (IN_PROCESS_NOTES.has(e.call) && e.phase === 'call') {
      steps.push({
        kind: 'note',
        on: me,
        label: e.detail === undefined || e.call.startsWith('Sp') ? e.call : `${e.call} ${e.detail}`,
        failed: false,
        ...(show && { show }),
      });
    } else if (IN_PROCESS_NOTES.has(e.call) && e.phase === 'return' && failed) {
      steps.push({ kind: 'note', on: me, label: `${e.call} ${e.status}`, failed, ...(show && { show }) });
    } else if (e.call === 'Phase' && e.detail === 'handshake' && !dividedPhases) {
      dividedPhases = true;
      steps.push({ kind: 'divider', label: 'the handshake phase ends: messages, if any, are signed and sealed in the app processes, without LPC' });
    }
  }
  return steps;
}

const COLUMN = 250;
const MARGIN = 30;
const HEAD = 56;
const ROW = 34;

function sequenceSvg(steps: readonly Step[], processes: readonly string[], events: readonly TraceEvent[]): string {
  const x = new Map(processes.map((p, i) => [p, MARGIN + COLUMN / 2 + i * COLUMN]));
  const width = MARGIN * 2 + COLUMN * Math.max(1, processes.length);
  const height = HEAD + ROW * (steps.length + 1) + 20;
  const out: string[] = [];
  out.push(
    `<svg class="sequence" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="sequence diagram">`,
  );
  out.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
  );
  for (const p of processes) {
    const cx = x.get(p)!;
    const first = events.find((e) => who(e) === p);
    const sub = first === undefined ? '' : `pid ${first.pid}, thread ${first.threadId}`;
    out.push(
      `<g class="lifeline" data-process="${esc(p)}"><line x1="${cx}" y1="${HEAD - 8}" x2="${cx}" y2="${height - 10}"/>` +
        `<rect class="head ${isLsaParticipant(p) ? 'lsa' : ''}" x="${cx - 90}" y="6" width="180" height="${HEAD - 16}" rx="6"/>` +
        `<text class="name" x="${cx}" y="26" text-anchor="middle">${esc(p)}</text><text class="sub" x="${cx}" y="42" text-anchor="middle">${esc(sub)}</text></g>`,
    );
  }
  steps.forEach((step, i) => {
    const y = HEAD + ROW * (i + 1);
    if (step.kind === 'divider') {
      out.push(
        `<g class="divider"><line x1="${MARGIN / 2}" y1="${y}" x2="${width - MARGIN / 2}" y2="${y}"/><text x="${width / 2}" y="${y - 5}" text-anchor="middle">${esc(step.label)}</text></g>`,
      );
      return;
    }
    const attrs = step.show === undefined ? '' : ` data-show="${step.show}" tabindex="0"`;
    if (step.kind === 'note') {
      const cx = x.get(step.on)!;
      const w = Math.min(COLUMN + 30, 16 + step.label.length * 6.7);
      out.push(
        `<g class="note${step.failed ? ' failed' : ''}${step.show === undefined ? '' : ' clickable'}"${attrs}><title>${esc(step.label)}</title>` +
          `<rect x="${cx - w / 2}" y="${y - 15}" width="${w}" height="20" rx="3"/><text x="${cx}" y="${y - 1}" text-anchor="middle">${esc(fit(step.label, w - 24))}</text></g>`,
      );
      return;
    }
    const x1 = x.get(step.from)!;
    const x2 = x.get(step.to)!;
    const mid = (x1 + x2) / 2;
    const span = Math.abs(x2 - x1);
    const chip = step.token === undefined ? '' : tokenChip(step.token, mid, y);
    const labelY = step.token === undefined ? y - 6 : y - 14;
    out.push(
      `<g class="arrow${step.dashed ? ' dashed' : ''}${step.failed ? ' failed' : ''}${step.show === undefined ? '' : ' clickable'}"${attrs}>` +
        `<title>${esc(`${step.from} → ${step.to}: ${step.label}${step.token === undefined ? '' : ` (token ${step.token.bytes.byteLength} bytes)`}`)}</title>` +
        `<line x1="${x1}" y1="${y}" x2="${x2 + (x2 > x1 ? -2 : 2)}" y2="${y}" marker-end="url(#arrow)"/>` +
        `<text x="${mid}" y="${labelY}" text-anchor="middle">${esc(fit(step.label, span - 24))}</text>${chip}</g>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** A token on an arrow: its size, clickable to its details. */
function tokenChip(token: Token, cx: number, y: number): string {
  const label = `▣ ${token.bytes.byteLength} B`;
  const w = 14 + label.length * 6.4;
  const kind = token.decoded === undefined ? '' : ` ${'fields' in token.decoded ? tokenType(token.decoded.fields) : 'malformed'}`;
  return (
    `<g class="token" data-show="${token.id}" data-token="${token.id}" tabindex="0" role="button" aria-label="token ${token.id}, ${token.bytes.byteLength} bytes">` +
    `<title>${esc(`token ${token.id}: ${token.bytes.byteLength} bytes${token.decoded === undefined ? '' : `, ${token.decoded.decoder}${kind}`}; click for its fields`)}</title>` +
    `<rect x="${cx - w / 2}" y="${y - 3}" width="${w}" height="16" rx="8"/><text x="${cx}" y="${y + 9}" text-anchor="middle">${esc(label)}</text></g>`
  );
}

// ---------------------------------------------------------------------------------------------
// The timeline
// ---------------------------------------------------------------------------------------------

const LABEL_WIDTH = 120;
const PLOT_WIDTH = 940;
const LANE = 20;
const TRACK_GAP = 14;

function timelineSvg(events: readonly TraceEvent[], spans: readonly Span[], processes: readonly string[], instants: ReadonlyMap<TraceEvent, string>): string {
  if (events.length === 0) return '<p class="hint">No trace events.</p>';
  const t0 = Math.min(...events.map((e) => e.t));
  const t1 = Math.max(...events.map((e) => e.t));
  const scale = PLOT_WIDTH / Math.max(t1 - t0, 1e-3);
  const xOf = (t: number): number => LABEL_WIDTH + (t - t0) * scale;
  const last = events.at(-1)!.t;
  const tracks: string[] = [];
  let y = 30;
  for (const p of processes) {
    const mine = spans.filter((s) => s.process === p);
    const lanes = Math.max(1, ...mine.map((s) => s.lane + 1));
    const height = lanes * LANE + 10;
    const parts: string[] = [];
    parts.push(`<rect class="track-bg" x="0" y="${y}" width="${LABEL_WIDTH + PLOT_WIDTH + 20}" height="${height}"/>`);
    for (const s of mine) {
      const start = xOf(s.start.t);
      const end = xOf(s.end?.t ?? last);
      const w = Math.max(2, end - start);
      const top = y + 6 + s.lane * LANE;
      const status = s.end?.status;
      // Every span has its label element, empty while too narrow: zooming fills it (SCRIPT).
      const label = `<text x="${start + 3}" y="${top + 12}">${w > 40 ? esc(fit(s.call, w - 6)) : ''}</text>`;
      const duration = ((s.end?.t ?? last) - s.start.t).toFixed(3);
      parts.push(
        `<g class="span cat-${category(s.call)}${failedStatus(status) ? ' failed' : ''}${s.end === undefined ? ' unfinished' : ''}" data-show="${s.id}" data-a="${s.start.t}" data-b="${s.end?.t ?? last}" data-call="${esc(s.call)}" tabindex="0">` +
          `<title>${esc(`${p}: ${s.call}${s.start.peer === undefined ? '' : ` for ${s.start.peer}`}, ${duration} ms${status === undefined ? '' : `, ${status}`}`)}</title>` +
          `<rect x="${start}" y="${top}" width="${w}" height="${LANE - 4}" rx="2"/>${label}</g>`,
      );
    }
    for (const [e, id] of instants) {
      if (who(e) !== p) continue;
      const ex = xOf(e.t);
      parts.push(
        `<g class="instant" data-show="${id}" data-a="${e.t}" transform="translate(${ex},0)" tabindex="0"><title>${esc(`${p}: ${e.call}${e.detail === undefined ? '' : ` [${e.detail}]`} at ${e.t.toFixed(3)} ms`)}</title>` +
          `<path d="M0,${y + 1} l4,5 l-4,5 l-4,-5 z"/></g>`,
      );
    }
    // The name last, drawn over the spans (it follows the scroll: SCRIPT).
    parts.push(`<text class="track-name" x="8" y="${y + 16}">${esc(p)}</text>`);
    tracks.push(`<g class="track" data-process="${esc(p)}">${parts.join('')}</g>`);
    y += height + TRACK_GAP;
  }
  const axis: string[] = [];
  const step = niceStep((t1 - t0) / 10);
  for (let t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
    const tx = xOf(t);
    axis.push(
      `<line class="tick" x1="${tx}" y1="22" x2="${tx}" y2="${y}"/><text class="tick-label" x="${tx}" y="16" text-anchor="middle">${formatMs(t, step)}</text>`,
    );
  }
  const width = LABEL_WIDTH + PLOT_WIDTH + 20;
  return (
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" role="img" aria-label="timeline" ` +
    `data-t0="${t0}" data-t1="${t1}" data-label="${LABEL_WIDTH}" data-plot="${PLOT_WIDTH}"><g class="axis">${axis.join('')}</g>${tracks.join('\n')}</svg>`
  );
}

function category(call: string): string {
  if (LPC_APIS.has(call) || MESSAGE_APIS.has(call) || call === 'QueryContextAttributes' || call === 'CompleteAuthToken') return 'sspi';
  if (call.startsWith('Sp') || call === 'LsaApLogonTerminated' || call === 'LsaCallbackFunction') return 'package';
  return 'lsa-function';
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-6)));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}

function formatMs(t: number, step: number): string {
  return `${t.toFixed(Math.max(0, -Math.floor(Math.log10(step))))} ms`;
}

// ---------------------------------------------------------------------------------------------
// The details panel
// ---------------------------------------------------------------------------------------------

function tokenType(fields: Described): string {
  return typeof fields === 'object' && fields !== null && !Array.isArray(fields) && typeof (fields as { type?: unknown }).type === 'string'
    ? String((fields as { type: string }).type)
    : '';
}

function tokenDetail(token: Token): string {
  const decoded = token.decoded;
  const heading =
    decoded === undefined
      ? 'no decoder recognises it'
      : 'fields' in decoded
        ? `${decoded.decoder} ${tokenType(decoded.fields)}`.trim()
        : `${decoded.decoder}, but malformed: ${decoded.error}`;
  return `<section class="detail token-detail" id="${token.id}" hidden>
<h3>Token ${token.id}: ${token.bytes.byteLength} bytes</h3>
<p class="kind">${esc(heading)}</p>
<ul class="seen">${token.seen.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
${decoded !== undefined && 'fields' in decoded ? `<div class="fields">${describedHtml(decoded.fields)}</div>` : ''}
<h4>Bytes</h4>
<pre class="hex">${esc(hexDump(token.bytes))}</pre>
</section>`;
}

function spanDetail(span: Span, tokens: ReadonlyMap<string, Token>): string {
  const e = span.start;
  const rows: Array<[string, string]> = [
    ['process', `${span.process} (pid ${e.pid}, thread ${e.threadId})`],
    ['called', `${e.t.toFixed(3)} ms`],
    ['returned', span.end === undefined ? 'never (no return in the trace)' : `${span.end.t.toFixed(3)} ms, after ${(span.end.t - e.t).toFixed(3)} ms`],
  ];
  if (e.peer !== undefined) rows.push(['for', e.peer]);
  if (span.end?.status !== undefined) rows.push(['status', span.end.status]);
  if (e.detail !== undefined) rows.push(['detail', e.detail]);
  if (span.end?.detail !== undefined) rows.push(['return detail', span.end.detail]);
  const linked = [e.tokenIn, e.tokenOut, span.end?.tokenIn, span.end?.tokenOut]
    .map((b) => (b === undefined ? undefined : tokens.get(b)))
    .filter((t): t is Token => t !== undefined);
  return `<section class="detail span-detail" id="${span.id}" hidden>
<h3>${esc(span.call)}</h3>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${linked.length === 0 ? '' : `<p>Tokens: ${[...new Set(linked)].map((t) => `<a href="#${t.id}" data-show="${t.id}">${t.id} (${t.bytes.byteLength} B)</a>`).join(', ')}</p>`}
${span.end?.stack === undefined ? '' : `<h4>The package's stack</h4><pre class="stack">${esc(span.end.stack)}</pre>`}
</section>`;
}

function eventDetail(e: TraceEvent, id: string): string {
  return `<section class="detail event-detail" id="${id}" hidden>
<h3>${esc(e.call)}</h3>
<table><tr><th>process</th><td>${esc(`${who(e)} (pid ${e.pid}, thread ${e.threadId})`)}</td></tr><tr><th>at</th><td>${e.t.toFixed(3)} ms</td></tr>${e.peer === undefined ? '' : `<tr><th>for</th><td>${esc(e.peer)}</td></tr>`}${e.detail === undefined ? '' : `<tr><th>detail</th><td>${esc(e.detail)}</td></tr>`}</table>
</section>`;
}

/** A decoder's description, whatever its shape: objects as tables of fields, arrays as lists. */
function describedHtml(value: Described): string {
  if (value === null) return '<span class="none">(none)</span>';
  if (Array.isArray(value))
    return value.length === 0 ? '<span class="none">(empty)</span>' : `<ol>${value.map((v) => `<li>${describedHtml(v)}</li>`).join('')}</ol>`;
  if (typeof value === 'object')
    return `<table class="fields">${Object.entries(value as Record<string, Described>)
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${describedHtml(v)}</td></tr>`)
      .join('')}</table>`;
  return value === '' ? '<span class="none">""</span>' : esc(String(value));
}

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  // Eight bytes a row: the panel's width.
  for (let at = 0; at < bytes.byteLength; at += 8) {
    const row = bytes.subarray(at, at + 8);
    const hexPart = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(4, '0')}  ${hexPart.padEnd(23)}  ${ascii}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/** Text for HTML and SVG: every character that could end an attribute or start markup escaped. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A label cut to about `width` pixels (6.2 px a character at the diagram's size). */
function fit(label: string, width: number): string {
  const chars = Math.max(3, Math.floor(width / 6.2));
  return label.length <= chars ? label : `${label.slice(0, chars - 1)}…`;
}

const STYLE = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #9aa3b5; --bg: #fbfcfe; --panel: #ffffff; --accent: #2456c8; --fail: #c62828; --lsa: #fff4d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 14px 24px 6px; border-bottom: 1px solid #e3e7ef; background: var(--panel); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 18px 0 8px; }
h3 { font-size: 15px; margin: 0 0 6px; word-break: break-all; }
h4 { font-size: 13px; margin: 12px 0 4px; color: var(--muted); }
.summary { margin: 2px 0; font-family: ui-monospace, monospace; font-size: 13px; white-space: pre-wrap; }
.legend, .hint { color: var(--muted); margin: 4px 0; font-size: 13px; }
.hint label { margin-left: 8px; color: var(--fg); }
.chip { display: inline-block; border: 1px solid var(--accent); color: var(--accent); border-radius: 8px; padding: 0 6px; font-size: 11px; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 400px; gap: 16px; padding: 0 16px 24px 24px; }
main { min-width: 0; }
.scroll { overflow: auto; border: 1px solid #e3e7ef; background: var(--panel); border-radius: 6px; }
aside { position: sticky; top: 8px; align-self: start; max-height: calc(100vh - 16px); overflow: auto; margin-top: 18px; padding: 12px 14px; background: var(--panel); border: 1px solid #e3e7ef; border-radius: 6px; }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
.lifeline line { stroke: var(--line); stroke-dasharray: 4 4; }
.lifeline .head { fill: #eef3ff; stroke: #7d95cf; }
.lifeline .head.lsa { fill: var(--lsa); stroke: #c9a23c; }
.lifeline .name { font-weight: 600; font-size: 13px; }
.lifeline .sub { fill: var(--muted); font-size: 10.5px; }
.arrow line { stroke: #39465e; stroke-width: 1.3; }
.arrow.dashed line { stroke-dasharray: 5 3; stroke: #6b7891; }
.arrow.failed line, .arrow.failed text { stroke: var(--fail); fill: var(--fail); }
.arrow.failed text { stroke: none; }
.note rect { fill: #f3f5f9; stroke: #c5ccda; }
.note text { font-size: 11.5px; }
.note.failed rect { fill: #fdecec; stroke: var(--fail); }
.divider line { stroke: #b9c1d0; stroke-dasharray: 2 3; }
.divider text { fill: var(--muted); font-size: 11px; font-style: italic; }
.token { cursor: pointer; }
.token rect { fill: #ffffff; stroke: var(--accent); stroke-width: 1.2; }
.token text { fill: var(--accent); font-size: 11px; font-weight: 600; }
.token:hover rect, .token:focus rect, .token.selected rect { fill: var(--accent); }
.token:hover text, .token:focus text, .token.selected text { fill: #ffffff; }
.clickable { cursor: pointer; }
.clickable.selected rect, .clickable.selected line { stroke: var(--accent); stroke-width: 2; }
.track-bg { fill: #f6f8fb; }
.track-name { font-weight: 600; paint-order: stroke; stroke: #f6f8fb; stroke-width: 4px; stroke-linejoin: round; pointer-events: none; }
.tick { stroke: #e4e8ef; }
.tick-label { fill: var(--muted); font-size: 10.5px; }
.span { cursor: pointer; }
.span rect { stroke: rgba(0,0,0,.25); stroke-width: .6; }
.span text { font-size: 10.5px; fill: #10141d; pointer-events: none; }
.span.cat-sspi rect { fill: #9cc3ff; }
.span.cat-package rect { fill: #ffd48a; }
.span.cat-lsa-function rect { fill: #c6e7b7; }
.span.failed rect { fill: #f4a3a3; stroke: var(--fail); }
.span.unfinished rect { stroke-dasharray: 3 2; }
.span:hover rect, .span.selected rect { stroke: var(--accent); stroke-width: 2; }
.instant path { fill: #7a5cc2; cursor: pointer; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 2px 6px 2px 0; font-size: 12.5px; }
th { color: var(--muted); font-weight: 500; white-space: nowrap; width: 1%; }
td { overflow-wrap: anywhere; font-family: ui-monospace, monospace; }
table.fields { table-layout: fixed; }
table.fields th { width: 96px; white-space: normal; overflow-wrap: anywhere; }
table.fields table.fields { border-left: 2px solid #e3e7ef; margin-left: 2px; }
table.fields table.fields th { width: 64px; }
ol { margin: 0; padding-left: 20px; }
.none { color: var(--muted); }
.kind { font-weight: 600; color: var(--accent); margin: 0 0 4px; }
.seen { margin: 0 0 8px; padding-left: 18px; color: var(--muted); font-size: 12.5px; }
pre { font: 11.5px/1.35 ui-monospace, monospace; background: #f6f8fb; padding: 8px; border-radius: 4px; overflow: auto; }
pre.stack { color: var(--fail); white-space: pre-wrap; overflow-wrap: anywhere; }
@media (max-width: 1100px) { .layout { grid-template-columns: 1fr; } aside { position: static; max-height: none; } }
`;

/** Shows the detail of what was clicked (or chosen with Enter): the section whose id its data-show names. */
const SCRIPT = `
(function () {
  var selected = [];
  function show(id) {
    var section = document.getElementById(id);
    if (!section) return;
    document.querySelectorAll('#detail .detail').forEach(function (s) { s.hidden = true; });
    selected.forEach(function (el) { el.classList.remove('selected'); });
    selected = Array.prototype.slice.call(document.querySelectorAll('[data-show="' + id + '"]'));
    selected.forEach(function (el) { el.classList.add('selected'); });
    section.hidden = false;
    document.getElementById('detail-hint').hidden = true;
    section.scrollIntoView({ block: 'nearest' });
  }
  function target(event) {
    var el = event.target;
    while (el && el !== document && !(el.getAttribute && el.getAttribute('data-show'))) el = el.parentNode;
    return el && el !== document ? el : null;
  }
  document.addEventListener('click', function (event) {
    var el = target(event);
    if (!el) return;
    event.preventDefault();
    show(el.getAttribute('data-show'));
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    var el = target(event);
    if (!el) return;
    event.preventDefault();
    show(el.getAttribute('data-show'));
  });
  if (location.hash.length > 1) show(location.hash.slice(1));

  // The timeline's zoom: the spans, instants and ticks laid out again at z times the width.
  var SVG_NS = 'http://www.w3.org/2000/svg';
  function niceStep(raw) {
    var power = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-6))));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= raw) return steps[i] * power;
    return 10 * power;
  }
  function fit(label, width) {
    var chars = Math.max(3, Math.floor(width / 6.2));
    return label.length <= chars ? label : label.slice(0, chars - 1) + '\u2026';
  }
  function zoom(z) {
    var svg = document.querySelector('svg.timeline');
    if (!svg) return;
    var scroller = svg.parentNode;
    var centre = (scroller.scrollLeft + scroller.clientWidth / 2) / scroller.scrollWidth;
    var t0 = +svg.dataset.t0, t1 = +svg.dataset.t1, left = +svg.dataset.label, plot = +svg.dataset.plot * z;
    var scale = plot / Math.max(t1 - t0, 1e-3);
    var x = function (t) { return left + (t - t0) * scale; };
    var width = left + plot + 20, height = +svg.getAttribute('height');
    svg.setAttribute('width', width);
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.querySelectorAll('.track-bg').forEach(function (r) { r.setAttribute('width', width); });
    svg.querySelectorAll('.span').forEach(function (g) {
      var a = x(+g.dataset.a), w = Math.max(2, x(+g.dataset.b) - a);
      var rect = g.querySelector('rect'), text = g.querySelector('text');
      rect.setAttribute('x', a);
      rect.setAttribute('width', w);
      text.setAttribute('x', a + 3);
      text.textContent = w > 40 ? fit(g.dataset.call, w - 6) : '';
    });
    svg.querySelectorAll('.instant').forEach(function (g) { g.setAttribute('transform', 'translate(' + x(+g.dataset.a) + ',0)'); });
    var axis = svg.querySelector('.axis');
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    var step = niceStep((t1 - t0) / (10 * z)), digits = Math.max(0, -Math.floor(Math.log10(step)));
    for (var t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
      var line = document.createElementNS(SVG_NS, 'line');
      line.setAttribute('class', 'tick');
      line.setAttribute('x1', x(t)); line.setAttribute('x2', x(t)); line.setAttribute('y1', 22); line.setAttribute('y2', height);
      var label = document.createElementNS(SVG_NS, 'text');
      label.setAttribute('class', 'tick-label');
      label.setAttribute('x', x(t)); label.setAttribute('y', 16); label.setAttribute('text-anchor', 'middle');
      label.textContent = t.toFixed(digits) + ' ms';
      axis.appendChild(line);
      axis.appendChild(label);
    }
    scroller.scrollLeft = centre * scroller.scrollWidth - scroller.clientWidth / 2;
  }
  var select = document.getElementById('zoom');
  if (select) select.addEventListener('change', function () { zoom(+select.value); });
  // The process names stay at the left edge of what is in view.
  var timeline = document.querySelector('svg.timeline');
  if (timeline)
    timeline.parentNode.addEventListener('scroll', function (event) {
      var left = event.currentTarget.scrollLeft + 8;
      timeline.querySelectorAll('.track-name').forEach(function (t) { t.setAttribute('x', left); });
    });
})();
`;
