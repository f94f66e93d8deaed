/**
 * The package ships two builds: ES modules for `import` and CommonJS for `require` (what Jest
 * and other CommonJS apps load). One app must load only one of them: each build defines its own
 * classes and injection tokens, so a module registered through one would not satisfy an
 * `@Inject` made through the other, and the failure would look like a missing provider.
 *
 * Each build records itself on the global object when it loads and refuses to load beside the
 * other. Loading the same build again (Jest's `resetModules`, a second test file) is fine.
 */
const BUILD = typeof module === 'object' && typeof exports === 'object' ? 'CommonJS' : 'ES module';
const REGISTRY = Symbol.for('nestjs-cognito-lowlevel.build');

/** @internal */
export function claimSingleBuild(): void {
  const registry = globalThis as { [REGISTRY]?: string };
  const loaded = registry[REGISTRY];
  if (loaded !== undefined && loaded !== BUILD) {
    throw new Error(
      `nestjs-cognito-lowlevel is being loaded as ${BUILD} after its ${loaded} build was loaded in the same app. ` +
        'The two builds have different injection tokens, so CognitoModule would not find its own providers. ' +
        'Load the package one way: import it everywhere (ES modules) or require it everywhere (CommonJS), ' +
        'and check that no dependency loads it the other way (for example a CommonJS library in an ESM app).',
    );
  }
  registry[REGISTRY] = BUILD;
}
