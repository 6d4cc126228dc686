import {spawn, type ChildProcess} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {touch} from '../../source/core/accounts.js';
import {newId} from '../../source/core/ids.js';
import type {Database, User} from '../../source/core/model.js';
import {AtomicJsonFile, type PatchStep} from '../../source/store/atomic-file.js';
import {Store, type StoreOptions} from '../../source/store/store.js';
import {bundledFixture} from './bundle.js';
import {tempDir} from './store.js';

/** A user record as a hand edit or an older orgctl might leave it: a PAM guest unless told otherwise. */
export function userRecord(tenantId: string, username: string, overrides: Partial<User> = {}): User {
	return {
		id: newId(),
		tenantId,
		username,
		email: `${username}@example.com`,
		role: 'guest',
		superuser: false,
		method: 'pam',
		passwordHash: null,
		disabled: false,
		created: '2026-01-01T00:00:00.000Z',
		lastLogin: null,
		revision: 1,
		...overrides,
	};
}

/** A store with one tenant and one guest user per name, then `root`, its admin and the superuser (every store needs both). */
export async function seededStore(names: readonly string[], options: StoreOptions & {path?: string} = {}): Promise<Store> {
	const store = await Store.open(options.path ?? join(tempDir(), 'orgctl.json'), options);
	await store.transact(db => {
		const tenantId = newId();
		db.tenants.push({id: tenantId, name: 'acme', created: '2026-01-01T00:00:00.000Z', revision: 1});
		for (const name of names) db.users.push(userRecord(tenantId, name));
		db.users.push(userRecord(tenantId, 'root', {role: 'admin', superuser: true}));
	});
	return store;
}

/** The users a test named (without `root`), as [username, role, revision]. */
export function named(db: Database): Array<[string, string, number]> {
	return db.users.filter(u => u.username !== 'root').map(u => [u.username, u.role, u.revision]);
}

export type Worker = {
	readonly child: ChildProcess;
	readonly pid: number;
	/** The revisions of NAME this writer was told are saved, in order. */
	readonly acks: number[];
	/** Lines other than acks, as printed. */
	readonly lines: string[];
	readonly exited: Promise<void>;
	/** Resolves at the first ack (or exit). */
	readonly firstAck: Promise<void>;
	/** Resolves at the first line matching, with the match. */
	line(pattern: RegExp): Promise<RegExpExecArray>;
	kill(signal?: NodeJS.Signals): void;
};

/**
 * Starts a real writer process on a bundled fixture (store-worker.ts unless told otherwise) and
 * collects what it prints: `ack N` lines as acknowledged revisions, anything else as lines. With
 * `uid` it runs as that user (and group of the same number): another local user.
 */
export async function startWorker(args: readonly string[], options: {fixture?: string; uid?: number} = {}): Promise<Worker> {
	const script = await bundledFixture(options.fixture ?? 'store-worker.ts');
	const as = options.uid === undefined ? {} : {uid: options.uid, gid: options.uid};
	const child = spawn(process.execPath, [script, ...args], {stdio: ['ignore', 'pipe', 'pipe'], ...as});
	const acks: number[] = [];
	const lines: string[] = [];
	const waiters: Array<{pattern: RegExp; resolve: (match: RegExpExecArray) => void}> = [];
	let buffered = '';
	let stderr = '';
	let onFirst: () => void = () => undefined;
	const firstAck = new Promise<void>(resolve => (onFirst = resolve));
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		buffered += chunk;
		const parts = buffered.split('\n');
		buffered = parts.pop()!;
		for (const line of parts) {
			const ack = /^ack (\d+)$/.exec(line);
			if (ack) {
				acks.push(Number(ack[1]));
				onFirst();
				continue;
			}
			lines.push(line);
			for (const waiter of waiters.splice(0)) {
				const match = waiter.pattern.exec(line);
				if (match) waiter.resolve(match);
				else waiters.push(waiter);
			}
		}
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	const exited = new Promise<void>((resolve, reject) => {
		child.on('close', (code, signal) => {
			onFirst();
			if (code === 0 || signal === 'SIGKILL') resolve();
			else reject(new Error(`writer ${args.join(' ')} exited with ${code ?? signal}: ${stderr}`));
		});
	});
	return {
		child,
		pid: child.pid!,
		acks,
		lines,
		exited,
		firstAck,
		line: pattern =>
			new Promise(resolve => {
				for (const line of lines) {
					const match = pattern.exec(line);
					if (match) return resolve(match);
				}
				waiters.push({pattern, resolve});
			}),
		kill: (signal = 'SIGKILL') => void child.kill(signal),
	};
}

/** Temp files in the store's folder (a writer's next version, a backup or a key on its way). */
export function tempFiles(path: string): string[] {
	return readdirSync(join(path, '..')).filter(name => name.includes('.tmp-'));
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The state a store file holds, as any JSON reader sees it (without orgctl's index of recent changes). */
export function fileState(path: string): unknown {
	const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
	delete raw['recentChanges'];
	return raw;
}

/** Data as plain JSON, to compare what two processes hold. */
export function asJson(db: Database): unknown {
	return JSON.parse(JSON.stringify(db));
}

/** A change that gives the user `name` the role `role` (and bumps the record's revision). */
export const promote =
	(name: string, role: 'member' | 'admin' = 'member') =>
	(db: Database): void => {
		const user = db.users.find(u => u.username === name)!;
		user.role = role;
		touch(user);
	};

/** The steps of the commits `run` makes (AtomicJsonFile.onPatchStep), in order: whether they patched the file or wrote it whole. */
export async function stepsOf(run: () => Promise<unknown>): Promise<PatchStep[]> {
	const steps: PatchStep[] = [];
	AtomicJsonFile.onPatchStep = step => void steps.push(step);
	try {
		await run();
	} finally {
		AtomicJsonFile.onPatchStep = undefined;
	}
	return steps;
}
