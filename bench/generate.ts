import {createHash, randomBytes} from 'node:crypto';
import {mkdirSync} from 'node:fs';
import {dirname} from 'node:path';
import {emptyDatabase, SCHEMA_VERSION, type AuditEvent, type AuthMethod, type Database, type Invitation, type Role, type User} from '../source/core/model.js';
import {KeyFile} from '../source/store/secrets.js';
import {AtomicJsonFile, MIGRATIONS} from '../source/store/store.js';

/** What to put in a generated store. */
export type GenerateOptions = {
	readonly users: number;
	readonly invitations?: number;
	/** Audit events already in the log (a store that has been used for a while). */
	readonly auditEvents?: number;
	readonly tenant?: string;
	/** Seals invitation secrets with this key file, so links can be copied; otherwise a well-formed dummy. */
	readonly keys?: KeyFile;
};

/**
 * A real scrypt hash (N=2^17) computed once: generating 100,000 users must take a second, not
 * eight hours. It is the hash of the password `correct horse battery staple`.
 */
export const FIXED_PASSWORD = 'correct horse battery staple';
export const FIXED_PASSWORD_HASH = 'scrypt$131072$8$1$ij3Yjl4f8NLy8UNWM1s7bQ$yHT-v-VnVdRHLRbxcPPqLg0xIb61RqMZDJA_w1sAWrg';

const FIRST = ['ada', 'alan', 'grace', 'edsger', 'barbara', 'donald', 'margaret', 'ken', 'dennis', 'radia', 'linus', 'frances', 'john', 'karen', 'leslie', 'niklaus'];
const LAST = ['lovelace', 'turing', 'hopper', 'dijkstra', 'liskov', 'knuth', 'hamilton', 'thompson', 'ritchie', 'perlman', 'torvalds', 'allen', 'backus', 'jones', 'lamport', 'wirth'];

/** Hex ids from one buffer of random bytes: realistic, and fast for 100,000 records. */
function idSource(count: number): () => string {
	const bytes = randomBytes(16 * count);
	let next = 0;
	return () => bytes.subarray(16 * next, 16 * ++next).toString('hex');
}

function pick<T>(list: readonly T[], i: number): T {
	return list[i % list.length]!;
}

/**
 * A valid Database with one tenant, `users` users (the first an admin and superuser with the
 * password {@link FIXED_PASSWORD}), `invitations` pending invitations and some audit history.
 * Field values look like a real organisation's; roles and methods are mixed.
 */
export function generateDatabase(options: GenerateOptions): Database {
	const invitations = options.invitations ?? Math.round(options.users / 5);
	const auditEvents = options.auditEvents ?? invitations;
	const nextId = idSource(1 + options.users + invitations + auditEvents);
	const db = emptyDatabase();
	const start = Date.parse('2024-01-01T00:00:00.000Z');
	const tenantId = nextId();
	db.tenants.push({id: tenantId, name: options.tenant ?? 'acme', created: new Date(start).toISOString(), revision: 1});

	for (let i = 0; i < options.users; i++) {
		const username = i === 0 ? 'admin' : `${pick(FIRST, i)}.${pick(LAST, Math.floor(i / FIRST.length))}${i}`;
		const method: AuthMethod = i % 20 === 7 ? 'saml' : i % 50 === 9 ? 'pam' : 'password';
		const role: Role = i === 0 || i % 25 === 0 ? 'admin' : i % 7 === 3 ? 'guest' : 'member';
		const created = new Date(start + i * 60_000).toISOString();
		const user: User = {
			id: nextId(),
			tenantId,
			username,
			email: `${username}@example.com`,
			role,
			superuser: i === 0,
			method,
			passwordHash: method === 'password' ? FIXED_PASSWORD_HASH : null,
			disabled: i % 53 === 11,
			created,
			lastLogin: i % 3 === 0 ? null : new Date(start + i * 60_000 + 86_400_000).toISOString(),
			revision: 1 + (i % 4),
		};
		db.users.push(user);
	}
	const inviter = db.users[0]?.id ?? nextId();

	for (let i = 0; i < invitations; i++) {
		const username = `invitee${i}`;
		const secret = randomBytes(32).toString('base64url');
		const created = new Date(start + i * 30_000);
		const invitation: Invitation = {
			id: nextId(),
			tenantId,
			username,
			email: `${username}@partner.example.org`,
			role: i % 10 === 0 ? 'admin' : 'member',
			method: 'password',
			invitedBy: inviter,
			created: created.toISOString(),
			expires: new Date(created.getTime() + 7 * 86_400_000).toISOString(),
			secretHash: createHash('sha256').update(secret).digest('hex'),
			secretSealed: options.keys ? options.keys.seal(secret) : `${randomBytes(12).toString('base64url')}.${randomBytes(16).toString('base64url')}.${randomBytes(43).toString('base64url')}`,
			mail: i % 40 === 5 ? {state: 'failed', at: created.toISOString(), reason: '550 5.1.1 mailbox unavailable'} : {state: 'sent', at: created.toISOString()},
			sentCount: 1,
			revision: 1,
		};
		db.invitations.push(invitation);
	}

	for (let i = 0; i < auditEvents; i++) {
		const event: AuditEvent = {
			id: nextId(),
			time: new Date(start + i * 45_000).toISOString(),
			actor: 'admin',
			tenantId,
			action: i % 5 === 0 ? 'user.role' : 'invitation.create',
			target: i % 5 === 0 ? pick(db.users, i).username : `invitee${i}`,
			result: 'ok',
		};
		db.audit.push(event);
	}
	db.version = 1;
	return db;
}

/**
 * Generates a store of the given size at `path` (with its key file), written by the store's own
 * writer (every record validated), so it is laid out exactly as orgctl writes it. Returns the
 * database written.
 */
export function generateStore(path: string, options: Omit<GenerateOptions, 'keys'>): Database {
	mkdirSync(dirname(path), {recursive: true, mode: 0o700});
	const db = generateDatabase({...options, keys: KeyFile.load(path)});
	new AtomicJsonFile(path, {migrations: MIGRATIONS, schemaVersion: SCHEMA_VERSION, lineCacheBytes: 0}).writeSync(db);
	return db;
}
