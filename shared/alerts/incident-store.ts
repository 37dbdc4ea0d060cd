/**
 * Incidents already alerted, kept durably in the warehouse under `.icebridge/alerts/<key hash>/`, so a retried
 * evaluation or a second instance does not send the same alert twice. Before sending, a sender takes the incident
 * with an exclusive create of `claim-<n>.json` (only one sender can create it); after sending it writes `sent.json`;
 * when sending failed for good it writes `failed-<n>.json`, which lets the next raise claim `claim-<n+1>`. A claim
 * with neither, older than the lease, belongs to a sender that died: the next raise claims the next number.
 */
import { createHash } from 'node:crypto';
import { AlreadyExistsError } from '../errors';
import type { FileIO } from '../iceberg/io/file-io';

/** What `claim` found. */
export type ClaimOutcome = { claimed: true; attempt: number } | { claimed: false; why: 'sent' | 'in-flight' };

/** Where a claim stands. */
interface ClaimRecord {
  key: string;
  claimedAt: string;
}

/** The durable record of alerted incidents. */
export class IncidentStore {
  private readonly root: string;

  constructor(
    private readonly io: FileIO,
    warehouse: string,
    private readonly leaseInMs = 10 * 60_000,
  ) {
    this.root = `${warehouse.replace(/\/+$/, '')}/.icebridge/alerts`;
  }

  /** Takes the incident for sending, unless it was sent or another sender holds it. */
  async claim(key: string, now: Date = new Date()): Promise<ClaimOutcome> {
    const folder = this.folder(key);
    const files = new Set<string>();
    for await (const file of this.io.list(`${folder}/`)) files.add(file.location.split(/[\\/]/).pop() ?? '');
    if (files.has('sent.json')) return { claimed: false, why: 'sent' };
    const attempts = [...files]
      .map((f) => /^claim-(\d+)\.json$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
    const last = attempts.length === 0 ? 0 : Math.max(...attempts);
    if (last > 0 && !files.has(`failed-${last}.json`)) {
      const record = JSON.parse(new TextDecoder().decode(await this.io.read(`${folder}/claim-${last}.json`))) as ClaimRecord;
      if (now.getTime() - Date.parse(record.claimedAt) < this.leaseInMs) return { claimed: false, why: 'in-flight' };
    }
    const attempt = last + 1;
    const record: ClaimRecord = { key, claimedAt: now.toISOString() };
    try {
      await this.io.write(`${folder}/claim-${attempt}.json`, encode(record), { exclusive: true });
    } catch (error) {
      if (error instanceof AlreadyExistsError) return { claimed: false, why: 'in-flight' };
      throw error;
    }
    return { claimed: true, attempt };
  }

  /** Records that the incident's alert was delivered. */
  async markSent(key: string, attempt: number, now: Date = new Date()): Promise<void> {
    await this.io.write(`${this.folder(key)}/sent.json`, encode({ key, attempt, sentAt: now.toISOString() }));
  }

  /** Records that a claimed attempt gave up, so the next raise may try again. */
  async markFailed(key: string, attempt: number, reason: string, now: Date = new Date()): Promise<void> {
    await this.io.write(`${this.folder(key)}/failed-${attempt}.json`, encode({ key, attempt, reason, failedAt: now.toISOString() }));
  }

  // The key holds free text (run ids, slots): a hash keeps the name short and safe for every store.
  private folder(key: string): string {
    return `${this.root}/${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
  }
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value)}\n`);
}
