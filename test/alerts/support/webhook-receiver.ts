/** A real local webhook receiver for the alert tests: it records each request and answers with a scripted status. */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  path: string;
  body: unknown;
}

/** A webhook receiver answering each request with the next status of `script` (the last one repeats). */
export class Receiver {
  readonly received: Received[] = [];
  script: number[] = [200];
  private server!: Server;

  /** `secret` goes into the URL's path and query, as a Slack or Teams webhook carries its credential. */
  constructor(private readonly secret: string) {}

  /** Listens on a free port of 127.0.0.1. */
  async start(): Promise<void> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => {
        this.received.push({ path: request.url ?? '', body: JSON.parse(text) as unknown });
        const status = this.script.length > 1 ? this.script.shift()! : this.script[0]!;
        response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `failed for ${request.url ?? ''}`);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** The webhook's URL, the secret in its path and query. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhook/${this.secret}?sig=${this.secret}`;
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
