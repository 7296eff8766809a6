// A real headless browser for tests: Debian's Chromium, driven over its DevTools protocol on
// --remote-debugging-pipe (no port, no download, no npm dependency), one page per test. It records
// what a page reports (console messages, uncaught exceptions, log entries, network requests) so
// that a test can say the page rendered without errors and fetched nothing.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CdpClient, type CdpEvent } from './cdp.js';

/** Where Debian's chromium package puts the browser; CHROMIUM overrides it. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why a browser test cannot run here, or undefined when it can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;
}

/** What a page reported while it was open. */
export interface PageReport {
  console: Array<{ type: string; text: string }>;
  exceptions: string[];
  /** Log entries of level error (a failed load, a blocked request, a CSP complaint, ...). */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
}

export class Browser {
  private readonly child: ChildProcess;
  readonly cdp: CdpClient;
  private readonly profile: string;
  private readonly exited: Promise<void>;

  private constructor(child: ChildProcess, cdp: CdpClient, profile: string) {
    this.child = child;
    this.cdp = cdp;
    this.profile = profile;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'sspi-emu-chromium-'));
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--remote-debugging-pipe',
        `--user-data-dir=${profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const cdp = CdpClient.pipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
    const browser = new Browser(child, cdp, profile);
    await cdp.send('Browser.getVersion');
    return browser;
  }

  /** Opens `url` in a new page and waits for its load event; the page's session and what it reported so far. */
  async open(url: string, viewport = { width: 1600, height: 1000 }): Promise<Page> {
    const { targetId } = await this.cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this.cdp, sessionId);
    await Promise.all(['Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable'].map((m) => page.send(m)));
    await page.send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false });
    const loaded = this.cdp.next('Page.loadEventFired', (e) => e.sessionId === sessionId);
    await page.send('Page.navigate', { url });
    await loaded;
    return page;
  }

  async close(): Promise<void> {
    try {
      await this.cdp.send('Browser.close');
    } catch {
      this.child.kill('SIGKILL');
    }
    await this.exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  private readonly cdp: CdpClient;
  readonly sessionId: string;

  constructor(cdp: CdpClient, sessionId: string) {
    this.cdp = cdp;
    this.sessionId = sessionId;
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    return this.cdp.send<T>(method, params, this.sessionId);
  }

  /** The value of a JavaScript expression in the page. */
  async evaluate<T>(expression: string): Promise<T> {
    const reply = await this.send<{ result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (reply.exceptionDetails !== undefined) throw new Error(`${expression}: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text}`);
    return reply.result.value;
  }

  /** A real click (mouse down and up at its centre, as a user's) on the first element `selector` finds. */
  async click(selector: string): Promise<void> {
    const box = await this.evaluate<{ x: number; y: number } | null>(
      `(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return null; el.scrollIntoView({ block: 'center', inline: 'center' }); const r = el.getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; })()`,
    );
    if (box === null) throw new Error(`nothing matches ${selector}`);
    for (const type of ['mousePressed', 'mouseReleased'])
      await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
  }

  /** A PNG of the whole page, or of the part `clip` says (CSS pixels from the page's top left). */
  async screenshot(clip?: { x: number; y: number; width: number; height: number }): Promise<Buffer> {
    const { data } = await this.send<{ data: string }>('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      ...(clip === undefined ? {} : { clip: { ...clip, scale: 1 } }),
    });
    return Buffer.from(data, 'base64');
  }

  /** What the page reported since it was opened (taken: a second call gives what came after). */
  report(): PageReport {
    const mine = (events: CdpEvent[]): CdpEvent[] => events.filter((e) => e.sessionId === this.sessionId);
    return {
      console: mine(this.cdp.take('Runtime.consoleAPICalled')).map((e) => ({
        type: String(e.params.type),
        text: ((e.params.args as Array<{ value?: unknown; description?: string }>) ?? []).map((a) => String(a.value ?? a.description ?? '')).join(' '),
      })),
      exceptions: mine(this.cdp.take('Runtime.exceptionThrown')).map((e) => JSON.stringify(e.params.exceptionDetails)),
      errors: mine(this.cdp.take('Log.entryAdded'))
        .map((e) => e.params.entry as { level: string; text: string })
        .filter((entry) => entry.level === 'error')
        .map((entry) => entry.text),
      requests: mine(this.cdp.take('Network.requestWillBeSent')).map((e) => String((e.params.request as { url: string }).url)),
    };
  }
}
