import {execFileSync, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

/**
 * A real SAML identity provider for tests: Debian's simplesamlphp (1.19) under PHP's built-in
 * server on 127.0.0.1, its config, throwaway key, sessions and logs in a temp folder. The key pair
 * is made once per test process (openssl, ~0.2 s) and reused: a start is then ~70 ms.
 * `.ci/run` installs it: apt-get install simplesamlphp php-cli php-xml php-mbstring php-curl.
 */

export const SSP_WWW = '/usr/share/simplesamlphp/www';
const EMAIL_NAMEID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

export type IdpUser = {readonly username: string; readonly password: string; readonly email: string; readonly uid: string};

/** The two users of every IdP here (throwaway passwords); bob's address has capitals on purpose. */
export const IDP_USERS: readonly IdpUser[] = [
	{username: 'alice', password: 'alice-pass-1', email: 'alice@example.test', uid: 'alice'},
	{username: 'bob', password: 'bob-pass-2', email: 'Bob.Builder@Example.Test', uid: 'bob'},
];

/**
 * Whether the tests that need the real IdP run: with php and simplesamlphp installed, always; without
 * them, they are skipped, except under CI, where a missing IdP must fail (the test then throws).
 */
export const IDP_INSTALLED = existsSync(join(SSP_WWW, '_include.php')) && existsSync('/usr/bin/php');
export const RUN_IDP_TESTS = IDP_INSTALLED || process.env['CI'] === 'true';

export type RunningIdp = {
	readonly entityId: string;
	readonly ssoUrl: string;
	readonly certificatePem: string;
	/** The IdP's certificate as a file (for `orgctl settings sso set --idp-cert`). */
	readonly certificateFile: string;
	readonly privateKeyPem: string;
	readonly users: readonly IdpUser[];
	readonly logFile: string;
	stop(): Promise<void>;
};

function php(value: unknown): string {
	if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
	if (typeof value === 'boolean') return value ? 'true' : 'false';
	if (typeof value === 'number') return String(value);
	if (value === null) return 'null';
	if (Array.isArray(value)) return `[${value.map(php).join(', ')}]`;
	return `[\n${Object.entries(value as Record<string, unknown>).map(([k, v]) => `  ${php(k)} => ${php(v)},`).join('\n')}\n]`;
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address() as {port: number};
			server.close(() => resolve(port));
		});
	});
}

function pemBody(pem: string): string {
	return /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)![1]!.replace(/\s+/g, '');
}

let sharedKey: {privateKeyPem: string; certificatePem: string} | undefined;

/** A throwaway RSA key and self-signed certificate (openssl), made once per process. */
export function testKeyPair(dir: string, name = 'idp'): {privateKeyPem: string; certificatePem: string} {
	const key = join(dir, `${name}.key`);
	const crt = join(dir, `${name}.crt`);
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', `/CN=${name} throwaway test key`, '-keyout', key, '-out', crt], {stdio: ['ignore', 'ignore', 'pipe']});
	return {privateKeyPem: readFileSync(key, 'utf8'), certificatePem: readFileSync(crt, 'utf8')};
}

/** Makes the IdP's key pair now (before a test's Clock starts, so the certificate is already valid on it). */
export function prepareIdpKey(dir: string): void {
	sharedKey ??= testKeyPair(dir);
}

/** Starts simplesamlphp for our SP (entity ID and ACS URL; our certificate makes it insist on signed requests). */
export async function startIdp(options: {dir: string; sp: {entityId: string; acsUrl: string; certificatePem: string}; users?: readonly IdpUser[]}): Promise<RunningIdp> {
	if (!IDP_INSTALLED) throw new Error(`simplesamlphp is not installed (${SSP_WWW} missing): apt-get install -y --no-install-recommends simplesamlphp php-cli php-xml php-mbstring php-curl`);
	const users = options.users ?? IDP_USERS;
	const dir = options.dir;
	const port = await freePort();
	const base = `http://127.0.0.1:${port}/simplesaml/`;
	const entityId = `${base}saml2/idp/metadata.php`;
	const sub = (name: string) => {
		const path = join(dir, name);
		mkdirSync(path, {recursive: true});
		return path;
	};
	const configDir = sub('config');
	const metadataDir = sub('config/metadata');
	const certDir = sub('cert');
	const sessionDir = sub('sessions');
	const logDir = sub('log');
	const docroot = sub('docroot');
	if (!existsSync(join(docroot, 'simplesaml'))) symlinkSync(SSP_WWW, join(docroot, 'simplesaml'));
	sharedKey ??= testKeyPair(sub('keys'));
	writeFileSync(join(certDir, 'idp.key'), sharedKey.privateKeyPem, {mode: 0o600});
	writeFileSync(join(certDir, 'idp.crt'), sharedKey.certificatePem);

	const config = {
		baseurlpath: base,
		certdir: `${certDir}/`,
		loggingdir: `${logDir}/`,
		datadir: `${sub('data')}/`,
		tempdir: `${sub('tmp')}/`,
		metadatadir: `${metadataDir}/`,
		'metadata.sources': [{type: 'flatfile'}],
		secretsalt: randomBytes(24).toString('hex'),
		'auth.adminpassword': randomBytes(12).toString('hex'),
		'admin.protectindexpage': false,
		'admin.protectmetadata': false,
		'admin.checkforupdates': false,
		technicalcontact_name: 'Test',
		technicalcontact_email: 'idp-admin@example.test',
		timezone: 'UTC',
		'enable.saml20-idp': true,
		'enable.shib13-idp': false,
		'module.enable': {core: true, saml: true, exampleauth: true, admin: true},
		// Plain http on loopback: a Secure cookie would never come back, SameSite=None without Secure is dropped.
		'session.cookie.secure': false,
		'session.cookie.samesite': 'Lax',
		'session.cookie.name': `SSPSession${port}`,
		'session.phpsession.cookiename': `SSPPHP${port}`,
		'session.authtoken.cookiename': `SSPAuthToken${port}`,
		'session.phpsession.savepath': sessionDir,
		'language.cookie.secure': false,
		'language.cookie.samesite': 'Lax',
		'store.type': 'phpsession',
		'logging.handler': 'file',
		'logging.logfile': 'simplesamlphp.log',
		'logging.level': 6,
		showerrors: true,
		errorreporting: false,
		production: true,
	};
	writeFileSync(join(configDir, 'config.php'), `<?php\n$config = ${php(config)};\n`);
	let auth = `<?php\n$config = [\n  'admin' => ['core:AdminPassword'],\n  'example-userpass' => [\n    'exampleauth:UserPass',\n`;
	for (const u of users) auth += `    ${php(`${u.username}:${u.password}`)} => ['email' => [${php(u.email)}], 'uid' => [${php(u.uid)}]],\n`;
	writeFileSync(join(configDir, 'authsources.php'), `${auth}  ],\n];\n`);
	const idpMeta = {
		host: '__DEFAULT__',
		privatekey: 'idp.key',
		certificate: 'idp.crt',
		auth: 'example-userpass',
		'signature.algorithm': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
		'saml20.sign.response': true,
		'saml20.sign.assertion': true,
		NameIDFormat: EMAIL_NAMEID,
	};
	writeFileSync(join(metadataDir, 'saml20-idp-hosted.php'), `<?php\n$metadata[${php(entityId)}] = ${php(idpMeta)};\n`);
	const spMeta = {
		AssertionConsumerService: [{Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', Location: options.sp.acsUrl, index: 0}],
		NameIDFormat: EMAIL_NAMEID,
		// Without it the emailAddress NameID is a hash or a transient id.
		'simplesaml.nameidattribute': 'email',
		attributes: ['email', 'uid'],
		'attributes.NameFormat': 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
		certData: pemBody(options.sp.certificatePem),
		'validate.authnrequest': true,
	};
	writeFileSync(join(metadataDir, 'saml20-sp-remote.php'), `<?php\n$metadata[${php(options.sp.entityId)}] = ${php(spMeta)};\n`);

	const logFile = join(logDir, 'php-server.log');
	const fd = openSync(logFile, 'a');
	// setpriv --pdeathsig: php dies with the test process even if that is SIGKILLed.
	const pdeath = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--'] : [];
	const [command, ...prefix] = [...pdeath, 'php'];
	// The IdP inherits our environment, faketime included: it signs on the same shifted clock.
	const child = spawn(command!, [...prefix, '-S', `127.0.0.1:${port}`, '-t', docroot, '-d', 'display_errors=stderr', '-d', 'log_errors=0', '-d', 'error_reporting=E_ALL & ~E_DEPRECATED & ~E_STRICT', '-d', 'date.timezone=UTC', '-d', `session.save_path=${sessionDir}`], {
		env: {...process.env, SIMPLESAMLPHP_CONFIG_DIR: configDir},
		stdio: ['ignore', fd, fd],
	});
	closeSync(fd);
	let exited = false;
	const exit = new Promise<void>(resolve =>
		child.once('exit', () => {
			exited = true;
			resolve();
		}),
	);
	const deadline = Date.now() + 15_000;
	for (;;) {
		if (exited) throw new Error(`php -S exited before answering; ${readFileSync(logFile, 'utf8').slice(-2000)}`);
		try {
			const answer = await fetch(entityId, {signal: AbortSignal.timeout(2000)});
			if (answer.status === 200 && (await answer.text()).includes('IDPSSODescriptor')) break;
		} catch {
			// not listening yet
		}
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`the IdP did not answer within 15 s; ${readFileSync(logFile, 'utf8').slice(-2000)}`);
		}
		await sleep(25);
	}
	const certificateFile = join(certDir, 'idp.crt');
	return {
		entityId,
		ssoUrl: `${base}saml2/idp/SSOService.php`,
		certificatePem: sharedKey.certificatePem,
		certificateFile,
		privateKeyPem: sharedKey.privateKeyPem,
		users,
		logFile,
		async stop() {
			if (exited) return;
			child.kill('SIGTERM');
			const force = setTimeout(() => child.kill('SIGKILL'), 2000);
			await exit;
			clearTimeout(force);
		},
	};
}
