import { Controller, Get, Header, Query } from '@nestjs/common';
import { page } from './html.js';

@Controller()
export class PagesController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  home(): string {
    return page(
      'Home',
      `<h1>nestjs-cognito-lowlevel sample</h1>
      <p>Sign in through the Cognito Hosted UI; the app's <code>LoginHandler</code> receives the verified tokens.</p>
      <p><a class="button" href="/auth/login">Sign in</a></p>`,
    );
  }

  @Get('login-error')
  @Header('content-type', 'text/html; charset=utf-8')
  loginError(@Query('error') reason?: string): string {
    const safe = /^[a-z_]{1,64}$/.test(reason ?? '') ? reason : 'unknown';
    return page('Sign-in failed', `<h1 class="error">Sign-in failed</h1><p>Reason: <code>${safe}</code></p><p><a href="/">Home</a></p>`);
  }
}
