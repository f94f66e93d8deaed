import { Controller, Get, Header } from '@nestjs/common';
import { CognitoClaims, RequireGroups, RequireScopes, type CognitoAccessTokenClaims } from '../lib/index.js';
import { escapeHtml, page } from './html.js';

/** Protected by the global CognitoAuthGuard (see app.module.ts): bearer token or session cookie. */
@Controller()
export class ApiController {
  /** An API route: needs an access token with the `profile` scope. */
  @RequireScopes('profile')
  @Get('api/me')
  me(@CognitoClaims() claims: CognitoAccessTokenClaims) {
    return { sub: claims.sub, username: claims.username, groups: claims['cognito:groups'] ?? [], scope: claims.scope };
  }

  /** A page only members of the `admin` group may see. */
  @RequireGroups('admin')
  @Get('admin')
  @Header('content-type', 'text/html; charset=utf-8')
  admin(@CognitoClaims('username') username: string): string {
    return page('Admin', `<h1>Admin area</h1><p>Welcome, ${escapeHtml(username)}: you are in the <code>admin</code> group.</p><p><a href="/me">Back</a></p>`);
  }
}
