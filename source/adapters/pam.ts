import {createRequire} from 'node:module';
import {unavailable} from '../core/errors.js';

/** The PAM service orgctl authenticates against: /etc/pam.d/orgctl (see README). */
export const PAM_SERVICE = 'orgctl';

type PamModule = {
	pamAuthenticatePromise(options: {username: string; password: string; serviceName?: string}): Promise<unknown>;
};

let loaded: Promise<PamModule> | undefined;

/** Named through a variable: the module is optional, so the compiler must not insist on finding it. */
const OPTIONAL_MODULE: string = 'node-linux-pam';

/**
 * node-linux-pam is optional: it builds from source against Debian's libpam0g-dev. Without it, PAM
 * logins fail with a message that says how to enable them.
 */
async function loadPam(): Promise<PamModule> {
	// require, not import(): the subcommands run as a CommonJS bundle compiled through node:vm (app/code-cache.ts), where
	// import() of a module outside the bundle throws (no dynamic-import callback); the module itself is CommonJS.
	loaded ??= Promise.resolve()
		// Its exports, as they are: their `default` is the bare native function, not the module.
		.then(() => createRequire(import.meta.url)(OPTIONAL_MODULE) as PamModule)
		.then(
			module => module,
			() => {
				loaded = undefined;
				throw unavailable('PAM sign-in is not available on this server: install the optional node-linux-pam module (apt-get install libpam0g-dev, then npm install node-linux-pam).');
			},
		);
	return loaded;
}

/** Checks a password against the system's PAM stack; false on a wrong password, an error when PAM itself is unusable. */
export async function checkPamPassword(username: string, password: string): Promise<boolean> {
	const pam = await loadPam();
	try {
		await pam.pamAuthenticatePromise({username, password, serviceName: PAM_SERVICE});
		return true;
	} catch {
		return false;
	}
}
