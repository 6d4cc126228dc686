import {join} from 'node:path';
import {render} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {createSession} from '../../source/core/accounts.js';
import {listUsersIn} from '../../source/core/users.js';
import {App} from '../../source/ui/app.js';
import {InputRouter} from '../../source/ui/input-router.js';
import {tick} from '../helpers/ink.js';
import {KEYS} from '../helpers/keys.js';
import {initializedContext} from '../helpers/store.js';
import {seedUsers} from '../helpers/term.js';

const savedSessionFile = process.env['ORGCTL_SESSION_FILE'];
afterEach(() => {
	if (savedSessionFile === undefined) delete process.env['ORGCTL_SESSION_FILE'];
	else process.env['ORGCTL_SESSION_FILE'] = savedSessionFile;
});

/** The usernames a frame's rows show, top to bottom: the first word that is one on each line with an e-mail. */
function shown(frame: string, names: ReadonlySet<string>): string[] {
	return frame
		.split('\n')
		.filter(line => line.includes('@example.com'))
		.flatMap(line => line.match(/[A-Za-z0-9._-]+/gu)?.filter(word => names.has(word)).slice(0, 1) ?? []);
}

describe('the Users list at the console\'s first frame (only its first page sorted, the rest before any key)', () => {
	it('draws the first page in username order, the same rows as the whole sort, and G at once goes to the last user in order', async () => {
		const {ctx, root} = await initializedContext();
		process.env['ORGCTL_SESSION_FILE'] = join(ctx.dir, 'session.json');
		// In the store out of username order, beginning with every letter, some alike.
		const letters = 'zyxwvutsrqponmlkjihgfedcba';
		await seedUsers(
			ctx,
			root.tenant.id,
			Array.from({length: 90}, (_, i) => ({username: `${letters[(i * 7) % 26]!}${i % 3 === 0 ? 'Q' : 'q'}${90 - i}`})),
		);
		// root is also in the header: its row (among the r's) is on neither the first page nor the last.
		const order = listUsersIn(ctx.store.read(), root)
			.map(u => u.username)
			.filter(name => name !== 'root');
		const names = new Set(order);
		expect(ctx.store.read().users.map(u => u.username)).not.toEqual(order);
		const {id, secret} = await createSession(ctx, root);
		const result = render(
			<InputRouter>
				<App ctx={ctx} start={{kind: 'main', actor: root, session: {id, secret}}} tenant={undefined} />
			</InputRouter>,
		);
		// The first frame, written while rendering: a page of the list, in order.
		const first = shown(result.frames[0] ?? '', names);
		expect(first.length).toBeGreaterThan(5);
		expect(first).toEqual(order.slice(0, first.length));
		expect(result.frames[0]).toContain(`of ${order.length + 1}`);
		// At once, before any frame or timer: the last row of the whole sort.
		result.stdin.write(KEYS['G'] ?? 'G');
		await tick();
		const last = shown(result.lastFrame() ?? '', names);
		expect(last.at(-1)).toBe(order.at(-1));
		expect(last).toEqual(order.slice(order.length - last.length));
		// Enter acts on the row under the cursor: the last user of the whole sort.
		result.stdin.write(KEYS['enter'] ?? '\r');
		await tick();
		expect(result.lastFrame()).toContain(`${order.at(-1)!}@example.com`);
		expect(result.lastFrame()).toContain('Sign-in method');
		result.stdin.write(KEYS['escape'] ?? '\u001b');
		await tick();
		result.stdin.write(KEYS['g'] ?? 'g');
		await tick();
		expect(shown(result.lastFrame() ?? '', names)).toEqual(first);
		// Every frame drawn showed rows of the sorted list only, in its order.
		for (const frame of result.frames) {
			const rows = shown(frame, names);
			if (rows.length === 0) continue;
			const at = order.indexOf(rows[0]!);
			expect(rows).toEqual(order.slice(at, at + rows.length));
		}
		result.unmount();
	});
});
