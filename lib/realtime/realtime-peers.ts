import { CognitoConfigurationError } from '../errors/configuration.error.js';

/**
 * The WebSocket packages are optional peers: an app that has no gateway installs none of them.
 * So this package never imports them at load time. `CognitoIoAdapter` and `CognitoWsAdapter`
 * start out extending a placeholder; while the application is being created (CognitoModule's
 * providers are resolved before `NestFactory.create()` returns), the installed packages are
 * loaded and each adapter is given its real base class, `IoAdapter` or `WsAdapter`. Creating an
 * adapter before that, or without the package, says what is missing.
 */

/** `WsException` of the installed `@nestjs/websockets`, which Nest's filter needs to send a refusal to the client. @internal */
export const realtimePeers: { WsException?: new (error: string | object) => Error } = {};

interface Adoption {
  child: Function;
  packageName: string;
  exportName: string;
}

const adoptions: Adoption[] = [];
/** Why an installed package could not be loaded (an ES module under Jest before Node 24.9, say). */
const failures = new Map<string, string>();

/** A stand-in base class until the package is loaded. @internal */
export function pendingBase(packageName: string, exportName: string, adapterName: string): new (...args: any[]) => object {
  return class PendingAdapterBase {
    constructor() {
      const failure = failures.get(packageName);
      throw new CognitoConfigurationError([
        failure === undefined
          ? `${adapterName} extends ${exportName} from ${packageName}, which is not loaded: install it (npm install ${packageName}), ` +
            'import CognitoModule in the application, and create the adapter after NestFactory.create() has returned'
          : `${adapterName} extends ${exportName} from ${packageName}, which is installed but failed to load: ${failure}`,
      ]);
    }
  };
}

/** Gives `child` its real base class once `packageName` is loaded. @internal */
export function adoptBaseWhenLoaded(child: Function, packageName: string, exportName: string): void {
  adoptions.push({ child, packageName, exportName });
}

/**
 * Loads the installed WebSocket packages and rebases the adapters on them. Runs once per
 * process, however many applications are created.
 *
 * @internal
 */
export function loadRealtimePeers(): Promise<void> {
  loading ??= load();
  return loading;
}

let loading: Promise<void> | undefined;

async function load(): Promise<void> {
  const websockets = await optional('@nestjs/websockets');
  if (typeof websockets?.WsException === 'function') realtimePeers.WsException = websockets.WsException;
  for (const { child, packageName, exportName } of adoptions) {
    const base = (await optional(packageName))?.[exportName];
    if (typeof base !== 'function') continue;
    Object.setPrototypeOf(child, base);
    Object.setPrototypeOf(child.prototype, base.prototype);
  }
}

/**
 * The package's exports, or `undefined` when it is not installed or does not load. An app that
 * has no gateway must boot whatever its node_modules hold (a hoisted ESM-only package under an
 * older Jest, say): the failure is kept for the adapter's error, if the app ever creates one.
 */
async function optional(name: string): Promise<Record<string, any> | undefined> {
  try {
    return (await import(name)) as Record<string, any>;
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') {
      failures.set(name, (error instanceof Error ? error.message : String(error)).split('\n')[0]);
    }
    return undefined;
  }
}
