// The HTML view of a run (machine/html.ts): one page that draws the trace (a lifeline per
// process, the calls that cross as arrows with their tokens, the timeline as tracks of nested
// spans) and decodes each token on a click. Read as text first (what it draws, what it escapes,
// that it loads nothing), then in a real headless browser (Debian's Chromium): a page from a real
// `sspi-emu run --html` renders without errors and without a request, has one lifeline per
// process of the trace, and a real click on a token shows its decoded fields.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TraceEvent } from '../../ipc/trace.js';
import { formatHtml } from '../../machine/html.js';
import { EXAMPLE_DECODER, NTLM_DECODER, type TokenDecoder } from '../../machine/token-decoders.js';
import { Browser, browserMissing, type Page } from '../helpers/browser.js';
import { sspiEmu } from '../helpers/cli.js';

let clock = 0;
function event(process: string, call: string, phase: TraceEvent['phase'], more: Partial<TraceEvent> = {}): TraceEvent {
  clock += 1;
  return { t: clock, process, pid: process === 'lsa' ? 500 : 1000, threadId: 1, call, phase, ...more };
}

const b64 = (text: string): string => Buffer.from(text, 'latin1').toString('base64');

/** A small handshake's trace: the client's call crosses to the LSA and back with a token, which the server then takes in. */
function handshakeTrace(token: string, extra: TraceEvent[] = []): TraceEvent[] {
  return [
    event('client', 'InitializeSecurityContext', 'call'),
    event('lsa', 'SpInitLsaModeContext', 'call', { peer: 'client' }),
    event('lsa', 'SpInitLsaModeContext', 'return', { peer: 'client', status: 'SEC_I_CONTINUE_NEEDED' }),
    event('client', 'InitializeSecurityContext', 'return', { status: 'SEC_I_CONTINUE_NEEDED', tokenOut: token }),
    event('server', 'AcceptSecurityContext', 'call', { tokenIn: token }),
    event('lsa', 'SpAcceptLsaModeContext', 'call', { peer: 'server' }),
    event('lsa', 'SpAcceptLsaModeContext', 'return', { peer: 'server', status: 'SEC_E_LOGON_DENIED' }),
    event('server', 'AcceptSecurityContext', 'return', { status: 'SEC_E_LOGON_DENIED' }),
    ...extra,
  ];
}

describe('the HTML view of a run', () => {
  it('draws one lifeline per process of the trace: clients, the LSA, servers, then the others', () => {
    const html = formatHtml(handshakeTrace(b64('hello'), [event('fuzz#1', 'AppStart', 'event')]));
    const lifelines = [...html.matchAll(/<g class="lifeline" data-process="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(lifelines, ['client', 'lsa', 'server', 'fuzz#1']);
    const tracks = [...html.matchAll(/<g class="track" data-process="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(tracks, lifelines);
  });

  it('draws a token once however often it travels, on each arrow that carries it, with its size', () => {
    const html = formatHtml(handshakeTrace(b64('hello')));
    // Out of the LSA to the client, from the client to the server, into the LSA for the server.
    assert.equal([...html.matchAll(/<g class="token" data-show="t1"/g)].length, 3);
    assert.equal([...html.matchAll(/<section class="detail token-detail" id="(t\d+)"/g)].length, 1);
    assert.match(html, /▣ 5 B/);
    assert.match(html, /<li>client InitializeSecurityContext, out<\/li><li>server AcceptSecurityContext, in<\/li>/);
  });

  it('decodes each token with the first decoder that recognises it, and says so when none does or it is malformed', () => {
    const shout: TokenDecoder = {
      name: 'Shout',
      recognises: (token) => token[0] === 0x21,
      describe: (token) => ({ type: 'Shout', words: Buffer.from(token.subarray(1)).toString('latin1').split(' ') }),
    };
    const decoded = formatHtml(handshakeTrace(b64('!hello world')), { decoders: [NTLM_DECODER, shout] });
    assert.match(decoded, /<p class="kind">Shout Shout<\/p>/);
    assert.match(decoded, /<th>words<\/th><td><ol><li>hello<\/li><li>world<\/li><\/ol><\/td>/);

    assert.match(formatHtml(handshakeTrace(b64('plain'))), /<p class="kind">no decoder recognises it<\/p>/);
    const truncated = formatHtml(handshakeTrace(b64('NTLMSSP\0\x01\0\0\0')), { decoders: [NTLM_DECODER, EXAMPLE_DECODER] });
    assert.match(truncated, /<p class="kind">NTLM, but malformed: [^<]+<\/p>/);
  });

  it('escapes whatever the trace carries, and runs only its own script', () => {
    const hostile = '<script>alert(1)</script>"\'&';
    const html = formatHtml(handshakeTrace(b64('x'), [event('client', 'AppLog', 'event', { detail: hostile }), event('x"><img src=y>', 'AppStart', 'event')]));
    assert.equal(html.split('<script').length - 1, 1, 'one script element: the page its own');
    assert.ok(!html.includes('<script>alert'), 'the detail is text');
    assert.ok(!html.includes('<img'), 'a process name is text');
    assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;&#34;&#39;&#38;/);
  });

  it('loads nothing: no external script, style, image, font or link', () => {
    const html = formatHtml(handshakeTrace(b64('x')));
    assert.doesNotMatch(html, /\s(src|href)="(?!#)/);
    assert.doesNotMatch(html, /@import|url\((?!#)/, 'only references within the page (the arrowhead marker)');
  });

  it('shows the stack of a package that threw under the call that failed', () => {
    const stack = 'Error: boom\n    at SealMessage (/home/me/contoso/src/user.ts:3:9)';
    const html = formatHtml([
      event('client', 'EncryptMessage', 'call'),
      event('client', 'SpSealMessage', 'call'),
      event('client', 'SpSealMessage', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: 'PACKAGE_THREW: boom', stack }),
      event('client', 'EncryptMessage', 'return', { status: 'SEC_E_INTERNAL_ERROR' }),
    ]);
    assert.match(html, /<h4>The package's stack<\/h4><pre class="stack">Error: boom\n {4}at SealMessage \(\/home\/me\/contoso\/src\/user\.ts:3:9\)<\/pre>/);
    assert.match(html, /<g class="span cat-package failed" data-show="s2"/);
  });
});

describe('the HTML view of a run, in a headless browser', { skip: browserMissing() }, () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let processes: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sspi-emu-html-'));
    const file = join(dir, 'run.html');
    const { code, stdout, stderr } = await sspiEmu(['run', '--package', 'ntlm', '--messages', '1', '--json', '--html', file]);
    assert.equal(code, 0, stderr);
    processes = [...new Set((JSON.parse(stdout) as { events: Array<{ process: string }> }).events.map((e) => e.process))];
    browser = await Browser.launch();
    page = await browser.open(pathToFileURL(file).href);
  });

  after(async () => {
    await browser?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('renders without a console error or an exception, and requests nothing but itself', async () => {
    const report = page.report();
    assert.deepEqual(
      report.console.filter((m) => m.type === 'error' || m.type === 'warning'),
      [],
    );
    assert.deepEqual(report.exceptions, []);
    assert.deepEqual(report.errors, []);
    assert.deepEqual(
      report.requests.filter((url) => !url.startsWith('file:')),
      [],
    );
  });

  it('has one lifeline per process of the trace, and one timeline track each', async () => {
    assert.deepEqual(processes.sort(), ['client', 'lsa', 'server']);
    const lifelines = await page.evaluate<string[]>(`[...document.querySelectorAll('svg.sequence .lifeline')].map((g) => g.dataset.process)`);
    assert.deepEqual([...lifelines].sort(), processes);
    const tracks = await page.evaluate<string[]>(`[...document.querySelectorAll('svg.timeline .track')].map((g) => g.dataset.process)`);
    assert.deepEqual(tracks, lifelines);
  });

  it('nests a call in the call it ran within: SpSealMessage under EncryptMessage, inside its time', async () => {
    const boxes = await page.evaluate<Record<string, { x: number; y: number; right: number }>>(`(() => {
      const track = document.querySelector('svg.timeline .track[data-process="client"]');
      const box = (name) => { const g = [...track.querySelectorAll('.span')].find((s) => s.querySelector('title').textContent.startsWith('client: ' + name + ',')); const r = g.querySelector('rect').getBBox(); return { x: r.x, y: r.y, right: r.x + r.width }; };
      return { outer: box('EncryptMessage'), inner: box('SpSealMessage') };
    })()`);
    assert.ok(boxes.inner!.y > boxes.outer!.y, 'one lane below');
    assert.ok(boxes.inner!.x >= boxes.outer!.x && boxes.inner!.right <= boxes.outer!.right + 2, JSON.stringify(boxes));
  });

  it('zooms the timeline: every span as many times wider, the nesting kept', async () => {
    const widths = (): Promise<{ svg: number; spans: number[] }> =>
      page.evaluate(
        `({ svg: +document.querySelector('svg.timeline').getAttribute('width'), spans: [...document.querySelectorAll('svg.timeline .span rect')].map((r) => +r.getAttribute('width')) })`,
      );
    const before = await widths();
    await page.evaluate(`(() => { const s = document.getElementById('zoom'); s.value = '10'; s.dispatchEvent(new Event('change')); })()`);
    const after = await widths();
    assert.equal(after.svg - 140, (before.svg - 140) * 10);
    for (const [i, w] of before.spans.entries()) if (w > 2) assert.ok(Math.abs(after.spans[i]! - w * 10) < 0.01, `span ${i}: ${w} -> ${after.spans[i]}`);
    const labelled = await page.evaluate<number>(`[...document.querySelectorAll('svg.timeline .span text')].filter((t) => t.textContent !== '').length`);
    assert.ok(labelled > before.spans.filter((w) => w > 40).length, 'more spans have room for their names');
    await page.evaluate(`(() => { const s = document.getElementById('zoom'); s.value = '1'; s.dispatchEvent(new Event('change')); })()`);
    assert.deepEqual(await widths(), before);
    assert.deepEqual(page.report().exceptions, []);
  });

  it('shows a token decoded, field by field, when it is clicked', async () => {
    const visible = (): Promise<string | null> => page.evaluate(`document.querySelector('#detail .detail:not([hidden])')?.id ?? null`);
    assert.equal(await visible(), null, 'nothing shown before a click');
    const tokens = await page.evaluate<string[]>(`[...new Set([...document.querySelectorAll('svg.sequence .token')].map((g) => g.dataset.token))]`);
    assert.equal(tokens.length, 3, 'NEGOTIATE, CHALLENGE and AUTHENTICATE');

    await page.click(`svg.sequence .token[data-token="${tokens[0]}"]`);
    assert.equal(await visible(), tokens[0]);
    const negotiate = await page.evaluate<{ kind: string; fields: string[][] }>(`(() => {
      const section = document.getElementById(${JSON.stringify(tokens[0])});
      return { kind: section.querySelector('.kind').textContent, fields: [...section.querySelectorAll('.fields > table > tbody > tr')].map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]) };
    })()`);
    assert.equal(negotiate.kind, 'NTLM NEGOTIATE_MESSAGE');
    assert.deepEqual(negotiate.fields[0], ['type', 'NEGOTIATE_MESSAGE']);
    assert.ok(
      negotiate.fields.some(([name, value]) => name === 'flags' && value!.includes('NTLMSSP_NEGOTIATE_UNICODE')),
      JSON.stringify(negotiate.fields),
    );

    await page.click(`svg.sequence .token[data-token="${tokens[2]}"]`);
    assert.equal(await visible(), tokens[2], 'the other token now, and only it');
    const authenticate = await page.evaluate<string>(`document.getElementById(${JSON.stringify(tokens[2])}).textContent`);
    assert.match(authenticate, /NTLM AUTHENTICATE_MESSAGE/);
    assert.match(authenticate, /alice/);
    const selected = await page.evaluate<string[]>(`[...document.querySelectorAll('.token.selected')].map((g) => g.dataset.token)`);
    assert.ok(selected.length > 0 && selected.every((t) => t === tokens[2]), 'the clicked token is marked wherever it travels');

    // For people: SSPI_EMU_SCREENSHOTS=DIR keeps a picture of the page as the test left it.
    const keep = process.env.SSPI_EMU_SCREENSHOTS;
    if (keep !== undefined) writeFileSync(join(keep, 'run-html.png'), await page.screenshot({ x: 0, y: 0, width: 1600, height: 1000 }));
    assert.deepEqual(page.report().exceptions, []);
  });
});

describe('the HTML view of a timeline merged from several machines', () => {
  const on = (machine: string, e: TraceEvent): TraceEvent => ({ ...e, machine });
  it("draws a lifeline and a track per machine's process, the DC's LSA between the workstation's and the member's, and a KDC request as a note", () => {
    const events: TraceEvent[] = [
      on('workstation', event('client', 'InitializeSecurityContext', 'call')),
      on('dc', { ...event('lsa', 'AS-REQ', 'return'), peer: '127.0.0.1:40000', status: 'OK' }),
      on('workstation', { ...event('client', 'InitializeSecurityContext', 'return'), status: 'SEC_I_CONTINUE_NEEDED' }),
      on('workstation', { ...event('lsa', 'SpInitLsaModeContext', 'call'), peer: 'client' }),
      on('member', event('server', 'AcceptSecurityContext', 'call')),
      on('member', { ...event('lsa', 'SpAcceptLsaModeContext', 'call'), peer: 'server' }),
    ];
    const html = formatHtml(events);
    const lifelines = [...html.matchAll(/<g class="lifeline" data-process="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(lifelines, ['workstation client', 'workstation lsa', 'dc lsa', 'member lsa', 'member server']);
    const tracks = [...html.matchAll(/<g class="track" data-process="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(tracks, lifelines);
    assert.match(html, /AS-REQ from 127\.0\.0\.1:40000: OK/);
  });
});
