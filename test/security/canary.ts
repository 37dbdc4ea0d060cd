/**
 * A canary secret and the search for it: a unique string put into every secret the product takes, looked for in
 * everything the product shows, in every form a leak could take (as is, URL-encoded, base64, hex, and the
 * bytes of a base64 key it decodes to), so an error that echoes a secret in any of them is caught.
 */
import { randomBytes } from 'node:crypto';

/** A canary: letters and digits only (so URLs and connection strings carry it unchanged), 32 characters (so it
 * is also valid base64, as storage keys and App Configuration secrets must be). */
export function makeCanary(): string {
  return `canary${randomBytes(13).toString('hex')}`;
}

/** Where some text was seen, and the text. */
export interface Output {
  where: string;
  text: string;
}

/** The forms of `canary` a leak could take. */
export function canaryForms(canary: string): string[] {
  const forms = [
    canary,
    encodeURIComponent(canary),
    Buffer.from(canary).toString('base64'),
    Buffer.from(canary).toString('hex'),
    // A base64 key is used as the bytes it decodes to; a dump of those bytes as text or hex would show these.
    Buffer.from(canary, 'base64').toString('hex'),
    Buffer.from(canary, 'base64').toString('latin1'),
  ];
  return [...new Set(forms)];
}

/** Every output holding a form of `canary`, as `where: …context…`. */
export function findCanary(canary: string, outputs: readonly Output[]): string[] {
  const forms = canaryForms(canary);
  const leaks: string[] = [];
  for (const { where, text } of outputs) {
    for (const form of forms) {
      const at = text.indexOf(form);
      if (at !== -1) leaks.push(`${where}: …${text.slice(Math.max(0, at - 60), at + form.length + 20)}…`);
    }
  }
  return leaks;
}

/** Captures what the process writes: stdout, stderr and every console method, until `stop`. */
export function captureProcessOutput(): { outputs: Output[]; stop(): void } {
  const outputs: Output[] = [];
  const restore: (() => void)[] = [];
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      outputs.push({ where: name, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8') });
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      outputs.push({
        where: `console.${method}`,
        text: args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack ?? ''}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
      });
    };
    restore.push(() => {
      console[method] = original;
    });
  }
  return {
    outputs,
    stop: () => {
      for (const undo of restore.reverse()) undo();
    },
  };
}

/** An error as everything a caller could show of it: message, stack, code, and its causes, recursively. */
export function describeThrown(error: unknown, depth = 0): string {
  if (depth > 5 || error === null || error === undefined) return String(error);
  if (!(error instanceof Error)) return typeof error === 'string' ? error : (JSON.stringify(error) ?? 'undefined');
  const own = Object.fromEntries(Object.entries(error).filter(([key]) => key !== 'cause'));
  let ownText: string;
  try {
    ownText = JSON.stringify(own);
  } catch {
    ownText = '(unserialisable properties)';
  }
  return [error.name, error.message, error.stack ?? '', ownText, 'cause' in error ? describeThrown(error.cause, depth + 1) : ''].join('\n');
}
