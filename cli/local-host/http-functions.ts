/**
 * Serves registered HTTP functions: route templates (`migrations/{id}`, `{id:int}`, `{id?}`, `{*rest}`) under the
 * route prefix, matched case-insensitively and most specific first, methods from the trigger (GET and POST by
 * default), an `HttpRequest` built from its init object, and the handler's `HttpResponse` or init written back the way
 * the worker converts it. authLevel is not enforced locally.
 */
import type { ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, type Cookie, type HttpResponseInit } from '@azure/functions';
import type { DurableClientBindingData } from './durable-api';
import { createInvocationContext, type HostLog } from './invocation-context';
import { hasTrigger, type FunctionRegistration } from './registry';

/** A compiled HTTP function route. */
export interface HttpRoute {
  registration: FunctionRegistration;
  template: string;
  methods: ReadonlySet<string>;
  pattern: RegExp;
  paramNames: string[];
  /** Orders routes: literal segments beat constrained parameters beat plain ones beat catch-alls. */
  rank: number[];
}

const CONSTRAINTS: Record<string, string> = {
  int: '-?\\d+',
  long: '-?\\d+',
  double: '-?\\d+(?:\\.\\d+)?',
  float: '-?\\d+(?:\\.\\d+)?',
  decimal: '-?\\d+(?:\\.\\d+)?',
  bool: '(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])',
  alpha: '[A-Za-z]+',
  guid: '[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}',
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles a route template to a whole-path pattern (path without the route prefix, no leading slash). */
export function compileRoute(template: string): { pattern: RegExp; paramNames: string[]; rank: number[] } {
  const paramNames: string[] = [];
  const rank: number[] = [];
  let source = '';
  const segments = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((segment) => segment !== '');
  segments.forEach((segment, index) => {
    const separator = index === 0 ? '' : '/';
    const whole = /^\{(\*)?([A-Za-z_][\w]*)(?::([A-Za-z]+)[^}]*)?(\?)?\}$/.exec(segment);
    if (whole) {
      const [, catchAll, name, constraint, optional] = whole;
      paramNames.push(name!);
      if (catchAll) {
        rank.push(0);
        source += `(?:${separator}(.*))?`;
        return;
      }
      const value = CONSTRAINTS[constraint?.toLowerCase() ?? ''] ?? '[^/]+';
      rank.push(constraint ? 2 : 1);
      source += optional ? `(?:${separator}(${value}))?` : `${separator}(${value})`;
      return;
    }
    rank.push(3);
    // A segment mixing literals and parameters, e.g. `{name}.{ext}`.
    source +=
      separator +
      segment
        .split(/(\{[^}]+\})/)
        .map((piece) => {
          const param = /^\{([A-Za-z_][\w]*)(?::[^}]*)?\}$/.exec(piece);
          if (!param) return escapeRegExp(piece);
          paramNames.push(param[1]!);
          return '([^/]+?)';
        })
        .join('');
  });
  return { pattern: new RegExp(`^${source}/?$`, 'i'), paramNames, rank };
}

/** Routes of every HTTP-triggered registration, most specific first. */
export function compileRoutes(registrations: Iterable<FunctionRegistration>): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const registration of registrations) {
    if (!hasTrigger(registration, 'httpTrigger')) continue;
    const template = typeof registration.trigger.route === 'string' ? registration.trigger.route : registration.name;
    const methods = Array.isArray(registration.trigger.methods) ? registration.trigger.methods.map((m) => String(m).toUpperCase()) : ['GET', 'POST'];
    routes.push({ registration, template, methods: new Set(methods), ...compileRoute(template) });
  }
  const compare = (a: number[], b: number[]): number => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const diff = (b[i] ?? -1) - (a[i] ?? -1);
      if (diff !== 0) return diff;
    }
    return 0;
  };
  return routes.sort((a, b) => compare(a.rank, b.rank));
}

/** The route serving `method` on `path` (route prefix removed) and its parameters, or undefined (the host's 404). */
export function matchRoute(routes: readonly HttpRoute[], method: string, path: string): { route: HttpRoute; params: Record<string, string> } | undefined {
  const trimmed = path.replace(/^\/+/, '');
  for (const route of routes) {
    if (!route.methods.has(method.toUpperCase())) continue;
    const match = route.pattern.exec(trimmed);
    if (!match) continue;
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, index) => {
      const value = match[index + 1];
      if (value !== undefined) params[name] = decodeURIComponent(value);
    });
    return { route, params };
  }
  return undefined;
}

/** What an HTTP invocation needs besides the route. */
export interface HttpInvocation {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  params: Record<string, string>;
  clientBinding: () => DurableClientBindingData;
  log: HostLog;
}

function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

/** Invokes the function behind `route` and writes its response; a throwing handler is a bare 500, as on Azure. */
export async function serveHttpFunction(route: HttpRoute, invocation: HttpInvocation, res: ServerResponse): Promise<void> {
  const { registration } = route;
  const url = new URL(invocation.url);
  const method = invocation.method.toUpperCase();
  const request = new HttpRequest({
    method,
    url: invocation.url,
    headers: invocation.headers,
    query: Object.fromEntries(url.searchParams),
    params: invocation.params,
    body: method === 'GET' || method === 'HEAD' || invocation.body.length === 0 ? undefined : { bytes: invocation.body },
  });
  const context = createInvocationContext(registration, invocation.log, { ...invocation.params });
  for (const input of registration.extraInputs) {
    if (input.type === 'durableClient' || input.type === 'orchestrationClient') context.extraInputs.set(input, invocation.clientBinding());
  }
  let response: HttpResponse;
  try {
    const result = await registration.handler(request, context);
    if (result === undefined || result === null) {
      res.writeHead(204).end();
      return;
    }
    if (typeof result !== 'object')
      throw new TypeError('The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".');
    response = result instanceof HttpResponse ? result : new HttpResponse(result as HttpResponseInit);
  } catch (error) {
    invocation.log(
      'error',
      registration.name,
      `Executed '${registration.name}' (Failed): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    res.writeHead(500).end();
    return;
  }
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers.entries()) headers[name] = value;
  if (response.cookies.length > 0) headers['set-cookie'] = response.cookies.map(serializeCookie);
  res.writeHead(response.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}
