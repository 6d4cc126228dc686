import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach} from 'vitest';
import {openContext, type OpenedStore, type Ports} from '../../source/app/context.js';
import {closeAfterTest, storeAddress} from './backend.js';
import {TEST_HASHER} from './hasher.js';
import {initialize} from '../../source/core/accounts.js';
import type {Actor, Context} from '../../source/core/context.js';

const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

/** A fresh temp folder (in `parent`, by default the system's), removed after the test. */
export function tempDir(parent = tmpdir()): string {
	const dir = mkdtempSync(join(parent, 'orgctl-test-'));
	dirs.push(dir);
	return dir;
}

/**
 * The one clock of a test: it starts at the real now (so what the test hands to a real process, on the
 * real clock, is as fresh there as here) and moves only when the test moves it: `clock.advance(seconds)`.
 */
export class Clock {
	constructor(public time = new Date()) {}
	now = () => new Date(this.time);
	advance(seconds: number): void {
		this.time = new Date(this.time.getTime() + seconds * 1000);
	}
}

export {TEST_HASHER};

/**
 * A real store in a temp folder (a file, or a schema on the test PostgreSQL server: helpers/backend.ts),
 * with its key file `dir/orgctl.key`, and a context over it built by the composition root.
 */
export async function tempContext(clock = new Clock(), ports: Ports = {}, parent?: string): Promise<Context & {dir: string; clock: Clock; store: OpenedStore}> {
	const dir = tempDir(parent);
	const ctx = await openContext(await storeAddress(dir), {now: clock.now, hasher: TEST_HASHER, keyFile: join(dir, 'orgctl.key'), ...ports});
	closeAfterTest(ctx.store);
	return {...ctx, dir, clock};
}

export const FIRST_PASSWORD = 'correct horse battery staple';

/** A store with its first user (admin + superuser of tenant `default`): `root`. */
export async function initializedContext(clock = new Clock(), ports: Ports = {}, parent?: string): Promise<{ctx: Awaited<ReturnType<typeof tempContext>>; root: Actor}> {
	const ctx = await tempContext(clock, ports, parent);
	const root = await initialize(ctx, {username: 'root', email: 'root@example.com', password: FIRST_PASSWORD});
	return {ctx, root};
}
