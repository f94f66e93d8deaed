export { LocalCognito } from './local-cognito.js';
export { HostedUiBrowser } from './hosted-ui-browser.js';
export type { LocalCognitoClient, LocalCognitoOptions, LocalCognitoUser, MintTokenOptions } from './local-cognito-options.interface.js';
