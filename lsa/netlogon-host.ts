// Netlogon in the LSA, as Windows runs netlogon.dll inside lsass: on a domain controller, the
// server side of the secure channel (the members' machine accounts, their logons handed to the
// DC's packages); on a domain member, the client side (the secure channel to its DC, made when a
// logon first needs it). Packages reach it through the LSA function CallPackagePassthrough
// (lsa/function-table.ts): NTLM on a member passes a domain user's AUTHENTICATE through it, as
// MSV1_0 passes a network logon to Netlogon (MS-APDS 3.1), and the DC's Netlogon hands it to the
// DC's NTLM package (its LsaApCallPackagePassthrough), which checks it against the DC's accounts.
//
// Each call the DC serves passes a call point ('NetrServerReqChallenge', 'NetrServerAuthenticate3',
// 'NetrLogonSamLogonEx'; call, then return with its status), so that the trace shows the DC's side
// and a fault plan can kill or stall the DC in the middle of a logon; the member's side is traced
// where the package calls it ('CallPackagePassthrough').

import { STATUS_INTERNAL_ERROR, STATUS_SUCCESS, type LsaApCallPackageResult } from '../headers/index.js';
import type { CallPoints } from '../hosting/index.js';
import {
  NetlogonClient,
  NetlogonServer,
  netlogonStatusName,
  sharedSecretOf,
  type MachineAccount,
  type NetlogonClientStatus,
  type NetlogonServerRecord,
  type NetlogonServerStats,
} from '../packages/ntlm/netlogon/index.js';

/** A domain controller's Netlogon (LsaConfig.netlogon); structured-cloneable. */
export interface NetlogonServerConfig {
  role: 'domain-controller';
  /** Where it listens (TCP); port 0 picks one (a restarted LSA is given the one picked). */
  host: string;
  port: number;
  domainName: string;
  dnsDomainName: string;
  /** The members' machine accounts: "NAME" (the account is "NAME$") and the password both sides were given at the join. */
  machineAccounts: Array<{ name: string; password: string }>;
  /** Post each call's record to the machine (`sspi-emu dc` prints them). */
  reportRequests: boolean;
}

/** A domain member's Netlogon (LsaConfig.netlogon); structured-cloneable. */
export interface NetlogonMemberConfig {
  role: 'member';
  domainName: string;
  dnsDomainName: string;
  dc: { host: string; port: number };
  /** The machine account, "NAME$", and its password, as the join set them. */
  accountName: string;
  password: string;
  /** How long a pass-through logon may take (the secure channel included) before it is STATUS_NO_LOGON_SERVERS. */
  timeoutMs: number;
}

export type NetlogonConfig = NetlogonServerConfig | NetlogonMemberConfig;

/** Netlogon as the machine sees it (`machine.lsa.netlogon()`, like `nltest /sc_query`). */
export type NetlogonStatus =
  | { role: 'domain-controller'; domainName: string; address: { host: string; port: number }; machineAccounts: string[]; stats: NetlogonServerStats }
  | { role: 'member'; domainName: string; dnsDomainName: string; channel: NetlogonClientStatus };

export type { NetlogonServerRecord };

/** How the DC's Netlogon hands a logon to one of the LSA's packages (the LSA's local pass-through). */
export type LocalPassThrough = (packageName: string, data: Uint8Array, peer: string) => Promise<LsaApCallPackageResult>;

export class NetlogonHost {
  private readonly server: NetlogonServer | null;
  private readonly client: NetlogonClient | null;
  private readonly config: NetlogonConfig;

  private constructor(config: NetlogonConfig, server: NetlogonServer | null, client: NetlogonClient | null) {
    this.config = config;
    this.server = server;
    this.client = client;
  }

  /** A DC's Netlogon listening, or a member's ready to make its channel. Rejects when a DC's port cannot be taken. */
  static async start(
    config: NetlogonConfig,
    points: CallPoints,
    local: LocalPassThrough,
    report?: (record: NetlogonServerRecord) => void,
  ): Promise<NetlogonHost> {
    if (config.role === 'member') {
      const client = new NetlogonClient({
        dc: config.dc,
        domainName: config.domainName,
        computerName: config.accountName.replace(/\$$/, ''),
        accountName: config.accountName,
        sharedSecret: sharedSecretOf(config.password),
        timeoutMs: config.timeoutMs,
      });
      return new NetlogonHost(config, null, client);
    }
    const accounts = new Map<string, MachineAccount>();
    config.machineAccounts.forEach((a, i) => {
      // Relative ids from 1104, past the well-known ones and the first users, as a fresh domain's computers get.
      accounts.set(`${a.name}$`.toLowerCase(), { accountName: `${a.name.toUpperCase()}$`, sharedSecret: sharedSecretOf(a.password), rid: 1104 + i });
    });
    const server = await NetlogonServer.listen(
      { host: config.host, port: config.port },
      {
        domainName: config.domainName,
        dnsDomainName: config.dnsDomainName,
        accounts,
        samLogon: async (request, channel) => {
          const result = await local(request.packageName, request.logonData, `${channel.accountName} (${channel.peer})`);
          if (result.status !== STATUS_SUCCESS) return { status: result.status, validationData: new Uint8Array(0) };
          return { status: result.ProtocolStatus ?? STATUS_SUCCESS, validationData: result.ProtocolReturnBuffer ?? new Uint8Array(0) };
        },
        hooks: {
          before: (call, peer) => {
            if (points.active) points.point(call, 'call', { peer });
          },
          after: (record) => {
            if (points.active)
              points.point(record.call, 'return', {
                status: record.status,
                peer: record.peer,
                ...(record.account === undefined && record.detail === undefined
                  ? {}
                  : { detail: [record.account, record.detail].filter((x) => x !== undefined).join(': ') }),
              });
            if (config.reportRequests) report?.(record);
          },
          dropped: (peer, why) => {
            if (points.active) points.point('NetlogonChannelDropped', 'event', { peer, detail: why });
          },
        },
      },
    );
    return new NetlogonHost(config, server, null);
  }

  /** Whether logons pass through to a DC (a member), rather than to this LSA's own packages. */
  get member(): boolean {
    return this.client !== null;
  }

  /** A member's pass-through: `data` to package `packageName` on the DC; never rejects. */
  async passThrough(packageName: string, data: Uint8Array): Promise<LsaApCallPackageResult & { reason?: string }> {
    if (this.client === null) return { status: STATUS_INTERNAL_ERROR, reason: 'this LSA is not a domain member' };
    const outcome = await this.client.samLogon(this.config.domainName, packageName, data);
    if (!outcome.ok) return { status: outcome.status, reason: outcome.reason };
    return {
      status: STATUS_SUCCESS,
      ProtocolStatus: outcome.status,
      ProtocolReturnBuffer: outcome.validationData,
      ReturnBufferLength: outcome.validationData.length,
    };
  }

  /** A member makes its secure channel now (nltest /sc_verify); a DC answers ok. */
  async verify(): Promise<{ ok: true } | { ok: false; status: string; reason: string }> {
    if (this.client === null) return { ok: true };
    const outcome = await this.client.verify();
    return outcome.ok ? outcome : { ok: false, status: netlogonStatusName(outcome.status), reason: outcome.reason };
  }

  get address(): { host: string; port: number } | null {
    return this.server === null ? null : { ...this.server.address };
  }

  status(): NetlogonStatus {
    if (this.server !== null && this.config.role === 'domain-controller')
      return {
        role: 'domain-controller',
        domainName: this.config.domainName,
        address: { ...this.server.address },
        machineAccounts: this.config.machineAccounts.map((a) => `${a.name.toUpperCase()}$`),
        stats: this.server.stats(),
      };
    const config = this.config as NetlogonMemberConfig;
    return { role: 'member', domainName: config.domainName, dnsDomainName: config.dnsDomainName, channel: this.client!.status() };
  }

  async close(): Promise<void> {
    this.client?.close();
    await this.server?.close();
  }
}

/** A Netlogon record as it arrives at the machine, checked; undefined for anything else. */
export function decodeNetlogonRecord(value: unknown): NetlogonServerRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<Record<keyof NetlogonServerRecord, unknown>>;
  if (r.call !== 'NetrServerReqChallenge' && r.call !== 'NetrServerAuthenticate3' && r.call !== 'NetrLogonSamLogonEx') return undefined;
  if (typeof r.status !== 'string' || typeof r.peer !== 'string' || typeof r.ms !== 'number') return undefined;
  const record: NetlogonServerRecord = { call: r.call, status: r.status, peer: r.peer, ms: r.ms };
  if (typeof r.account === 'string') record.account = r.account;
  if (typeof r.detail === 'string') record.detail = r.detail;
  return record;
}
