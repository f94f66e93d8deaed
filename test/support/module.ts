import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { CognitoModule, type CognitoCallbackHandler, type CognitoModuleOptions } from '../../lib/index.js';

/** A cookie secret with enough entropy for the option check (never used outside tests). */
export const COOKIE_SECRET = 'uJuR_VszNTzcNK_Hl99_WiiHun_OJI4vfQFLrTiaVhY';

@Injectable()
export class NoopHandler implements CognitoCallbackHandler {
  onSuccess(): void {}
}

export function baseOptions(overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions {
  return {
    userPoolId: 'eu-west-2_TestPool1',
    clientId: 'testclient123',
    domain: 'https://example.auth.eu-west-2.amazoncognito.com',
    redirectUri: 'https://app.example.com/auth/callback',
    cookieSecret: COOKIE_SECRET,
    ...overrides,
  };
}

/** Compiles a real Nest module with CognitoModule, for service-level tests. */
export async function compileCognito(overrides: Partial<CognitoModuleOptions> = {}): Promise<TestingModule> {
  return Test.createTestingModule({
    imports: [CognitoModule.forRoot({ ...baseOptions(overrides), callbackHandler: NoopHandler })],
  })
    .setLogger({ log() {}, error() {}, warn() {}, debug() {}, verbose() {} })
    .compile();
}
