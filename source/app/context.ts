import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {checkPamPassword} from '../adapters/pam.js';
import {scryptHasher} from '../adapters/scrypt-hasher.js';
import type {Context, SecretBox, StorePort} from '../core/context.js';
import {readPlacedFile} from '../store/safe-place.js';
import {KeyFile, sealedSecretsIn} from '../store/secrets.js';
import {defaultStorePath, Store, type StoreOptions} from '../store/store.js';

/** The ports a caller may choose; each has the production adapter as its default. */
export type Ports = Partial<Pick<Context, 'now' | 'hasher' | 'pam' | 'mailer' | 'readFile' | 'resolvePath' | 'makeKeyPair' | 'saml'>>;

/**
 * The one place that plugs the adapters into the core's ports: the console, the command line,
 * the tests and (later) the web server all build their Context here.
 */
export function buildContext<S extends StorePort>(store: S, secrets: SecretBox, ports: Ports = {}): Context & {readonly store: S} {
	return {
		store,
		secrets,
		now: ports.now ?? (() => new Date()),
		hasher: ports.hasher ?? scryptHasher(),
		pam: ports.pam ?? checkPamPassword,
		// nodemailer is loaded only when a message goes out: subcommands that send nothing do not pay for it.
		mailer: ports.mailer ?? (async (smtp, options) => (await import('../adapters/mailer.js')).createMailer(smtp, secrets, {...options, readCa: path => readPlacedFile(path, 'CA file').toString('utf8')})),
		readFile: ports.readFile ?? ((path, kind) => (kind ? readPlacedFile(path, kind) : readFileSync(path))),
		resolvePath: ports.resolvePath ?? (path => resolve(path)),
		// node-forge (for the certificate) is loaded only the one time a key pair is made.
		makeKeyPair: ports.makeKeyPair ?? (async request => (await import('../adapters/key-pair.js')).makeKeyPair(request)),
		// node-saml is loaded only when a SAML request or response is handled.
		saml: ports.saml ?? {
			authorizeUrl: async (config, request) => (await import('../adapters/saml-sp.js')).nodeSamlPort.authorizeUrl(config, request),
			verify: async (config, response, isPending) => (await import('../adapters/saml-sp.js')).nodeSamlPort.verify(config, response, isPending),
		},
	};
}

/**
 * Opens the store (and its key file) and builds the Context over it. The store gets the same
 * clock as the core (it dates the daily backup); it reads none of its own.
 */
export async function openContext(storePath: string, options: {store?: StoreOptions} & Ports = {}): Promise<Context & {readonly store: Store}> {
	const {store: storeOptions, ...ports} = options;
	const now = ports.now ?? (() => new Date());
	const store = await Store.open(storePath, {now, ...storeOptions});
	const secrets = KeyFile.load(store.path, {mayCreate: sealedSecretsIn(store.read()).length === 0});
	return buildContext(store, secrets, {...ports, now});
}

/** `--store`, else ORGCTL_STORE, else `store/orgctl.json` in the folder orgctl was installed into. */
export function resolveStorePath(option: string | undefined): string {
	return resolve(option ?? process.env['ORGCTL_STORE'] ?? defaultStorePath());
}
