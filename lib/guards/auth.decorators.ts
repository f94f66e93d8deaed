import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { CognitoTokenUse } from '../tokens/cognito-claims.interface.js';
import { cognitoSocketAuth } from '../realtime/socket-auth.js';
import { authHolderOf } from './execution-context.util.js';

/** @internal */
export const IS_PUBLIC = 'COGNITO:PUBLIC';
/** @internal */
export const REQUIRED_GROUPS = 'COGNITO:REQUIRED_GROUPS';
/** @internal */
export const REQUIRED_SCOPES = 'COGNITO:REQUIRED_SCOPES';
/** @internal */
export const TOKEN_USE = 'COGNITO:TOKEN_USE';

/** How a list of groups or scopes must be matched. @publicApi */
export interface RequirementOptions {
  /** `any`: one of them is enough; `all`: every one is needed. @default 'any' */
  match?: 'any' | 'all';
}

/** @internal */
export interface Requirement {
  values: string[];
  match: 'any' | 'all';
}

/**
 * Opens a route (or every route of a controller) under a global `CognitoAuthGuard`.
 * A valid token still yields claims; an absent or invalid one gives no claims and no 401.
 *
 * @publicApi
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * Requires membership of Cognito groups (`cognito:groups`): any of them by default.
 *
 * @example `@RequireGroups('admin', 'support')` or `@RequireGroups(['admin', 'audit'], { match: 'all' })`
 * @publicApi
 */
export function RequireGroups(...args: [string[], RequirementOptions?] | string[]): MethodDecorator & ClassDecorator {
  return SetMetadata(REQUIRED_GROUPS, requirement('RequireGroups', args));
}

/**
 * Requires OAuth scopes (the access token's space-separated `scope`): any of them by default.
 *
 * @example `@RequireScopes('orders/read')` or `@RequireScopes(['orders/read', 'orders/write'], { match: 'all' })`
 * @publicApi
 */
export function RequireScopes(...args: [string[], RequirementOptions?] | string[]): MethodDecorator & ClassDecorator {
  return SetMetadata(REQUIRED_SCOPES, requirement('RequireScopes', args));
}

/**
 * Which token the route needs: `access` (the default, checked against `client_id`) or
 * `id` (checked against `aud`).
 *
 * @publicApi
 */
export const TokenUse = (tokenUse: CognitoTokenUse): MethodDecorator & ClassDecorator => {
  if (tokenUse !== 'id' && tokenUse !== 'access') throw new TypeError('@TokenUse() takes "id" or "access"');
  return SetMetadata(TOKEN_USE, tokenUse);
};

/**
 * The verified claims of the request's token (set by `CognitoAuthGuard`), or one claim by name;
 * `undefined` on a public route without a valid token. Works in HTTP controllers, GraphQL
 * resolvers (subscriptions too) and WebSocket gateways (the token the connection opened with).
 *
 * @example `me(@CognitoClaims() claims: CognitoAccessTokenClaims, @CognitoClaims('sub') sub: string)`
 * @publicApi
 */
export const CognitoClaims = createParamDecorator((claim: string | undefined, context: ExecutionContext) => {
  const auth = context.getType() === 'ws' ? cognitoSocketAuth(context.getArgByIndex(0)) : (authHolderOf(context) as { cognito?: { claims: object } } | undefined)?.cognito;
  const claims = auth?.claims as Record<string, unknown> | undefined;
  return claim === undefined ? claims : claims?.[claim];
});

function requirement(decorator: string, args: [string[], RequirementOptions?] | string[]): Requirement {
  const [first, options] = args;
  const values = Array.isArray(first) ? first : (args as string[]);
  const match = (Array.isArray(first) ? (options as RequirementOptions | undefined)?.match : undefined) ?? 'any';
  // An empty list would either open or close the route by accident: refuse it at startup.
  if (values.length === 0 || values.some((value) => typeof value !== 'string' || value.length === 0)) {
    throw new TypeError(`@${decorator}() needs at least one non-empty name`);
  }
  if (match !== 'any' && match !== 'all') throw new TypeError(`@${decorator}(): "match" must be "any" or "all"`);
  return { values: [...values], match };
}
