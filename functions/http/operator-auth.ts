/**
 * Who may change production behaviour over HTTP (flag flips, rollback, restore). A function key alone is not
 * enough: on Azure the caller must be signed in through App Service authentication and hold the operator role
 * (the platform's `x-ms-client-principal` header, which it strips from incoming requests when authentication is
 * on); under `icebridge serve` (or any host with `ICEBRIDGE_LOCAL_TOKEN` set) the caller must present the local
 * token as a bearer token. Anywhere else, changing calls are refused: there is no way to know who is calling.
 */
import { timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { hostKind } from '../../shared/config/settings';
import { problem } from './http-json';

/** Settings of operator authorisation. */
export const OPERATOR_SETTING_NAMES = {
  /** The role a signed-in principal needs (App Service authentication). */
  role: 'ICEBRIDGE_OPERATOR_ROLE',
  /** The bearer token of a local host. */
  localToken: 'ICEBRIDGE_LOCAL_TOKEN',
} as const;

/** The role required when none is configured. */
export const DEFAULT_OPERATOR_ROLE = 'icebridge.operator';

/** The authorised caller, or the refusal to send. */
export type OperatorCheck = { actor: string } | { response: HttpResponseInit };

interface ClientPrincipal {
  auth_typ?: string;
  name_typ?: string;
  role_typ?: string;
  claims?: { typ?: string; val?: string }[];
}

const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const NAME_CLAIMS = ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'];

/** Checks the caller of a changing request; `env` is the process environment. */
export function authorizeOperator(request: HttpRequest, env: NodeJS.ProcessEnv = process.env): OperatorCheck {
  const token = env[OPERATOR_SETTING_NAMES.localToken]?.trim();
  if (token) {
    const presented = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    if (presented === undefined || !sameSecret(presented, token)) {
      return {
        response: problem(
          401,
          'unauthorized',
          'changing calls need the local token: Authorization: Bearer <token> (icebridge serve names the file that holds it)',
        ),
      };
    }
    return { actor: request.headers.get('x-icebridge-actor')?.trim() || 'local operator' };
  }
  if (hostKind(env) !== 'azure') {
    return {
      response: problem(403, 'forbidden', `changing calls are refused: no operator authorisation is configured (set ${OPERATOR_SETTING_NAMES.localToken})`),
    };
  }
  const principal = decodePrincipal(request.headers.get('x-ms-client-principal'));
  if (principal === undefined) {
    return {
      response: problem(401, 'unauthorized', 'changing calls need a signed-in caller (App Service authentication); a function key alone is not enough'),
    };
  }
  const role = env[OPERATOR_SETTING_NAMES.role]?.trim() || DEFAULT_OPERATOR_ROLE;
  const roleTypes = [principal.role_typ, ...ROLE_CLAIMS].filter((t): t is string => t !== undefined);
  const roles = (principal.claims ?? []).filter((c) => c.typ !== undefined && roleTypes.includes(c.typ)).map((c) => c.val);
  const nameTypes = [principal.name_typ, ...NAME_CLAIMS].filter((t): t is string => t !== undefined);
  const actor =
    (principal.claims ?? []).find((c) => c.typ !== undefined && nameTypes.includes(c.typ))?.val ??
    request.headers.get('x-ms-client-principal-name') ??
    'unknown';
  if (!roles.includes(role)) return { response: problem(403, 'forbidden', `${actor} does not hold the role ${role}`) };
  return { actor };
}

function decodePrincipal(header: string | null): ClientPrincipal | undefined {
  if (header === null || header.trim() === '') return undefined;
  try {
    const value = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as ClientPrincipal) : undefined;
  } catch {
    return undefined;
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
