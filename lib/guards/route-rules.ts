import type { Reflector } from '@nestjs/core';
import type { CognitoTokenUse } from '../tokens/cognito-claims.interface.js';
import { IS_PUBLIC, REQUIRED_GROUPS, REQUIRED_SCOPES, TOKEN_USE, type Requirement } from './auth.decorators.js';

/** What the decorators say about one handler (or a gateway class), read once: reflection on every request is measurable. @internal */
export interface RouteRules {
  isPublic: boolean;
  tokenUse: CognitoTokenUse;
  groups: Requirement | undefined;
  scopes: Requirement | undefined;
}

/** The decorators on the first target that has each one (a handler's override its class's). @internal */
export function readRouteRules(reflector: Reflector, targets: Function[]): RouteRules {
  return {
    isPublic: reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) ?? false,
    tokenUse: reflector.getAllAndOverride<CognitoTokenUse>(TOKEN_USE, targets) ?? 'access',
    groups: reflector.getAllAndOverride<Requirement>(REQUIRED_GROUPS, targets),
    scopes: reflector.getAllAndOverride<Requirement>(REQUIRED_SCOPES, targets),
  };
}

/** Which requirement these claims miss, if any. @internal */
export function unmetRequirement({ groups, scopes }: RouteRules, claims: Record<string, unknown>): 'groups' | 'scopes' | undefined {
  if (groups !== undefined && !satisfies(groups, claims['cognito:groups'])) return 'groups';
  if (scopes !== undefined) {
    const granted = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : undefined;
    if (!satisfies(scopes, granted)) return 'scopes';
  }
  return undefined;
}

function satisfies(requirement: Requirement, granted: unknown): boolean {
  if (!Array.isArray(granted)) return false;
  const set = new Set(granted.filter((value): value is string => typeof value === 'string'));
  return requirement.match === 'all' ? requirement.values.every((value) => set.has(value)) : requirement.values.some((value) => set.has(value));
}

/**
 * Marks `CognitoAuthGuard` (and subclasses) without importing it, so code that looks for it in
 * `@UseGuards` metadata does not import the guard (the guard imports that code).
 *
 * @internal
 */
export const COGNITO_GUARD_MARK = Symbol.for('nestjs-cognito-lowlevel.guard');

/** Whether a `@UseGuards()` entry (a class or an instance) is `CognitoAuthGuard`. @internal */
export function isCognitoGuard(guard: unknown): boolean {
  if (typeof guard === 'function') return (guard as { [COGNITO_GUARD_MARK]?: boolean })[COGNITO_GUARD_MARK] === true;
  return typeof guard === 'object' && guard !== null && isCognitoGuard(guard.constructor);
}
