import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {checkPamPassword} from '../adapters/pam.js';
import {scryptHasher} from '../adapters/scrypt-hasher.js';
import type {Context, SecretBox, StorePort} from '../core/context.js';
import {defaultKeyPath} from '../store/layout.js';
import {isPostgresAddress} from '../store/postgres/address.js';
import type {PgStore, PgStoreOptions} from '../store/postgres/pg-store.js';
import {readPlacedFile} from '../store/safe-place.js';
import {KeyFile, sealedSecretsIn} from '../store/secrets.js';
import {defaultStorePath, Store, type StoreOptions} from '../store/store.js';
import {VALIDATOR_ID} from './validator-id.js';

/** The ports a caller may choose; each has the production adapter as its default. */
export type Ports = Partial<Pick<Context, 'now' | 'hasher' | 'pam' | 'mailer' | 'readFile' | 'resolvePath' | 'makeKeyPair' | 'saml'>>;

/** Either store, as opened for use: the file or PostgreSQL. */
export type OpenedStore = Store | PgStore;

export type OpenOptions = {
	/** Options of the file store, and of the PostgreSQL store when the address is postgres://. */
	readonly store?: StoreOptions & PgStoreOptions;
	/** The key file of a PostgreSQL store (--key-file); a file store's key is always beside it. */
	readonly keyFile?: string | undefined;
} & Ports;

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
 * Opens the store the address names (a file path, or postgres://…) with its key file and builds
 * the Context over it. The store gets the same clock as the core (it dates the daily backup); it
 * reads none of its own.
 */
export async function openContext(address: string, options: OpenOptions = {}): Promise<Context & {readonly store: OpenedStore}> {
	const {store: storeOptions, keyFile, ...ports} = options;
	const now = ports.now ?? (() => new Date());
	if (isPostgresAddress(address)) {
		const {store, secrets} = await openPostgres(address, storeOptions, keyFile);
		return buildContext(store, secrets, {...ports, now});
	}
	// A file this build has validated before opens without being validated again (store/validated.ts).
	const store = await Store.open(address, {now, ...(VALIDATOR_ID === undefined ? {} : {validatorId: VALIDATOR_ID}), ...storeOptions});
	const secrets = KeyFile.load(store.path, {mayCreate: () => sealedSecretsIn(store.read()).length === 0});
	return buildContext(store, secrets, {...ports, now});
}

/** Opens the store the address names, without its key file: `admin copy-store`, benchmarks and tests. */
export async function openStore(address: string, options: StoreOptions & PgStoreOptions = {}): Promise<OpenedStore> {
	if (!isPostgresAddress(address)) return Store.open(address, options);
	const {PgStore} = await import('../store/postgres/pg-store.js');
	return PgStore.open(address, options);
}

/**
 * Opens a PostgreSQL store (the driver loads only here) and the key file that seals its secrets,
 * which every host using the store must hold: a host with another key is refused, and a new key is
 * made only while the store has none bound and nothing sealed.
 */
export async function openPostgres(address: string, options: PgStoreOptions = {}, keyFile?: string): Promise<{store: PgStore; secrets: KeyFile}> {
	const {PgStore} = await import('../store/postgres/pg-store.js');
	const store = await PgStore.open(address, options);
	try {
		const keyPath = resolveKeyPath(keyFile);
		const secrets = KeyFile.loadFile(keyPath, {
			mayCreate: store.keyId === null && sealedSecretsIn(store.read()).length === 0,
			recover: `copy the key file from a host that uses this store to ${keyPath} (mode 0600), or point --key-file or ORGCTL_KEY_FILE at it`,
		});
		await store.bindKey(secrets.id, secrets.path);
		return {store, secrets};
	} catch (error) {
		await store.close();
		throw error;
	}
}

/** `--store`, else ORGCTL_STORE, else `store/orgctl.json` in the folder orgctl was installed into; a postgres:// address as it is. */
export function resolveStorePath(option: string | undefined): string {
	const address = option ?? process.env['ORGCTL_STORE'] ?? defaultStorePath();
	return isPostgresAddress(address) ? address : resolve(address);
}

/** A PostgreSQL store's key file: `--key-file`, else ORGCTL_KEY_FILE, else `store/orgctl.key` where orgctl is installed. */
export function resolveKeyPath(option: string | undefined): string {
	return resolve(option ?? process.env['ORGCTL_KEY_FILE'] ?? defaultKeyPath());
}
