import {afterEach, describe, expect, it} from 'vitest';
import {resolveActor} from '../../source/core/accounts.js';
import {createProject} from '../../source/core/projects.js';
import {authenticateToken, createToken} from '../../source/core/tokens.js';
import {ownership} from '../helpers/people.js';
import {tempDir} from '../helpers/store.js';
import {openStore, seedRoot, seedUsers, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

describe('removing a user in the console', () => {
	it('an admin deletes a user who owns two projects and a token through the migration view, told first that the token is revoked', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await seedUsers(ctx, root.tenant.id, [{username: 'ada', role: 'admin'}, {username: 'bob'}, {username: 'carol'}, {username: 'gus', role: 'guest'}]);
		const as = (name: string) => resolveActor(ctx.store.read(), ctx.store.read().users.find(u => u.username === name)!.id);
		await createProject(ctx, as('bob'), {name: 'web'});
		await createProject(ctx, as('bob'), {name: 'api'});
		const {secret} = await createToken(ctx, as('bob'), {name: 'deploy', project: 'web', capabilities: ['cli']});
		await signIn(ctx, as('ada'), dir);

		const t = spawnConsole({dir});
		running.push(t);
		await t.waitReady('main:users');
		await t.waitFor('carol');
		// Users in name order: ada, bob, carol, gus, root.
		await t.press('j');
		await t.waitFor(/›bob/);
		await t.press('d');
		await t.waitFor('Delete bob: move what they own first');
		expect(t.screen()).toMatch(/project\s+web\s+\?/);
		expect(t.screen()).toMatch(/project\s+api\s+\?/);
		expect(t.screen()).toMatch(/token\s+deploy \(web\)\s+\?/);
		expect(t.screen()).toContain('Moved tokens are revoked; their new owner re-issues.');

		// web → carol, chosen from the filtered list of users who may own it (no guest gus, no bob).
		await t.press('enter');
		await t.waitFor('New owner: web');
		expect(t.screen()).not.toMatch(/›?\s*gus\s/);
		await t.press('/');
		await t.waitFor('Enter keep the filter');
		await t.type('car');
		await t.press('enter');
		await t.waitFor('/car (Esc clears)');
		await t.press('enter');
		await t.waitFor(/web\s+→ carol/);

		// api → ada (the first in the list), the token → carol.
		await t.press('j');
		await t.waitFor(/›project\s+api/);
		await t.press('enter');
		await t.waitFor('New owner: api');
		await t.press('enter');
		await t.waitFor(/api\s+→ ada/);
		await t.press('j');
		await t.waitFor(/›token\s+deploy/);
		await t.press('enter');
		await t.waitFor('New owner: deploy (web)');
		await t.press('/');
		await t.waitFor('Enter keep the filter');
		await t.type('carol');
		await t.press('enter');
		await t.waitFor('/carol (Esc clears)');
		await t.press('enter');
		await t.waitFor(/deploy \(web\)\s+→ carol/);

		// Review, then type the username to confirm.
		await t.press('c');
		await t.waitFor('then delete bob');
		expect(t.screen()).toContain('project web: bob → carol');
		expect(t.screen()).toContain('project api: bob → ada');
		expect(t.screen()).toContain('API token deploy (web): bob → carol (revoked)');
		expect(t.screen()).toContain('The API token moved is revoked: its secret stops');
		await t.press('enter');
		await t.waitFor('to confirm');
		await t.type('bob');
		await t.press('enter');
		// The status line says what happened; `:` shows the equivalent command whole, so the same can be scripted next time.
		await t.waitFor('Deleted bob after moving 3 items.');
		await t.expectCommand('orgctl users delete bob --move project:web=carol');
		await t.waitFor(s => !/›?\s+bob\s+bob@example\.com/.test(s));

		const after = await openStore(dir);
		expect(ownership(after)).toEqual({'project web': 'carol', 'project api': 'ada', 'token deploy': 'carol'});
		expect(after.store.read().users.map(u => u.username)).not.toContain('bob');
		// Moves are grouped by new owner inside the one transaction; the delete comes last.
		const steps = after.store.read().audit.slice(-4).map(e => `${e.actor} ${e.action} ${e.target}`);
		expect(steps.slice(0, 3).sort()).toEqual(['ada project.transfer api: bob → ada', 'ada project.transfer web: bob → carol', 'ada token.transfer deploy (web): bob → carol']);
		expect(steps[3]).toBe('ada user.delete bob');
		// bob's secret did not pass to carol: it acts as nobody, and only carol can re-issue it.
		await expect(authenticateToken(after, secret)).rejects.toThrow(/revoked .*it moved from bob to carol/);
	});
});
