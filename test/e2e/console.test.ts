import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {tempDir} from '../helpers/store.js';
import {ROOT_PASSWORD, seedRoot, seedUsers, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// These run the built console (npm test builds first) in a real pseudo-terminal at 80×24.
const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

function start(dir: string, options: {cols?: number; rows?: number} = {}): ConsoleTerm {
	const t = spawnConsole({dir, ...options});
	running.push(t);
	return t;
}

/** A store with root signed in and a few more users. */
async function signedInStore(extra = 0): Promise<string> {
	const dir = tempDir();
	const {ctx, root} = await seedRoot(dir);
	const names = Array.from({length: extra}, (_, i) => ({username: `user${String(i + 1).padStart(2, '0')}`}));
	await seedUsers(ctx, root.tenant.id, [...names, {username: 'zed', email: 'zed@corp.example', role: 'guest'}]);
	await signIn(ctx, root, dir);
	return dir;
}

/** A store with root, the console at its sign-in screen, and root's name and `password` submitted. */
async function signInAs(password: string) {
	const dir = tempDir();
	await seedRoot(dir);
	const t = start(dir);
	await t.waitReady('login');
	await t.type('root');
	await t.press('tab');
	await t.type(password);
	await t.press('enter');
	return {dir, t};
}

describe('the console in a terminal', () => {
	it('on an empty store asks for the first user, who becomes admin and superuser and stays signed in', async () => {
		const dir = tempDir();
		const t = start(dir);
		await t.waitReady('first-run');
		expect(t.alternate()).toBe(true);
		expect(t.screen()).toContain('no users yet');
		await t.type('root');
		await t.press('tab');
		await t.type('root@example.com');
		await t.press('tab');
		await t.type(ROOT_PASSWORD);
		await t.press('tab');
		await t.type(ROOT_PASSWORD);
		await t.press('enter', 'enter');
		await t.waitReady('main:users', 20_000);
		await t.waitFor('★superuser');
		expect(t.screen()).toMatch(/root\s+admin ★superuser · tenant default/);
		await t.expectCommand('orgctl init --username root --email root@example.com --password-stdin');
		expect(existsSync(join(dir, 'session.json'))).toBe(true);
	});

	it('signs in with the right password and lands in Users', async () => {
		const {dir, t} = await signInAs(ROOT_PASSWORD);
		await t.waitReady('main:users', 20_000);
		// The ready marker (the title) can be parsed before the frame that follows it.
		await t.waitFor('Signed in as root.');
		expect(existsSync(join(dir, 'session.json'))).toBe(true);
	});

	it('refuses a wrong password with a clear sentence and stays on the sign-in screen', async () => {
		const {t} = await signInAs('not the password');
		await t.waitFor('Wrong username, e-mail or password.', 20_000);
		expect(t.title()).toBe('orgctl:ready:login');
		expect(t.screen()).toContain('Sign in');
		// Typing `q` in a field is text, not quit.
		await t.type('q');
		await t.waitFor('•');
		expect(t.alternate()).toBe(true);
	});

	it('switches sections with Tab, Shift-Tab and numbers', async () => {
		const t = start(await signedInStore());
		await t.waitReady('main:users');
		// Section numbers depend on which sections are built in; My Account is always last.
		await t.press('tab');
		await t.waitFor(() => t.title().startsWith('orgctl:ready:main:') && t.title() !== 'orgctl:ready:main:users');
		await t.press('1');
		await t.waitReady('main:users');
		await t.press('shift-tab');
		await t.waitReady('main:account');
		await t.waitFor('Press p to change your password');
		const number = /(\d) My Account/.exec(t.screen())![1]!;
		await t.press('1');
		await t.waitReady('main:users');
		await t.press(number);
		await t.waitReady('main:account');
	});

	it('filters the users list with / and clears the filter with Esc', async () => {
		const t = start(await signedInStore(40));
		await t.waitReady('main:users');
		await t.waitFor('of 42');
		await t.press('/');
		await t.type('zed');
		await t.waitFor('1–1 of 1 (filter of 42)');
		await t.press('enter');
		await t.waitFor('/zed (Esc clears)');
		expect(t.screen()).toMatch(/›zed\s+zed@corp/);
		// Moving in a kept filter works; Esc brings everyone back.
		await t.press('escape');
		await t.waitFor(/1–\d+ of 42$/m);
	});

	it('moves by bursts, pages and jumps to the ends', async () => {
		const t = start(await signedInStore(40));
		await t.waitReady('main:users');
		await t.press('jjj');
		await t.waitFor(/›user03/);
		await t.press('G');
		await t.waitFor(/›zed/);
		await t.press('g');
		await t.waitFor(/›root/);
		await t.press('pagedown');
		await t.waitFor(/›user15/);
		expect(t.screen()).toContain('16–31 of 42');
		await t.press('pageup');
		await t.waitFor(/›root/);
	});

	it('opens a user with Enter and goes back with Esc', async () => {
		const t = start(await signedInStore(3));
		await t.waitReady('main:users');
		await t.press('G', 'enter');
		await t.waitFor('Sign-in method');
		expect(t.screen()).toContain('orgctl users show zed');
		await t.press('escape');
		await t.waitFor('USERNAME');
	});

	it('shows every key in the ? overlay and closes it with Esc', async () => {
		const t = start(await signedInStore());
		await t.waitReady('main:users');
		await t.press('?');
		await t.waitFor('Everywhere');
		expect(t.screen()).toContain('help: every key');
		await t.press('escape');
		await t.waitFor('USERNAME');
	});

	it('redraws on resize to 100×30 and back to 80×24 with the header on top and keys at the bottom', async () => {
		const t = start(await signedInStore(40));
		await t.waitReady('main:users');
		t.resize(100, 30);
		await t.waitFor(s => s.split('\n')[28]?.includes('? help') === true && s.split('\n')[0]?.startsWith('orgctl') === true);
		expect(t.lines()[0]!.length).toBeGreaterThan(80);
		t.resize(80, 24);
		await t.waitFor(s => s.split('\n')[22]?.includes('? help') === true && s.split('\n')[0]?.startsWith('orgctl') === true);
		expect(t.lines().every(line => line.length <= 80)).toBe(true);
	});

	it('q leaves the alternate screen and exits 0', async () => {
		const t = start(await signedInStore());
		await t.waitReady('main:users');
		expect(t.alternate()).toBe(true);
		await t.press('q');
		const exit = await t.exited;
		expect(exit.exitCode).toBe(0);
		expect(t.alternate()).toBe(false);
	});

	it('SIGHUP (an SSH drop) still leaves the alternate screen', async () => {
		const t = start(await signedInStore());
		await t.waitReady('main:users');
		t.kill('SIGHUP');
		const exit = await t.exited;
		expect(exit.exitCode === 129 || exit.signal === 1).toBe(true);
		expect(t.output()).toContain('\u001b[?1049l');
		expect(t.alternate()).toBe(false);
	});

	it('SIGTERM leaves the alternate screen too', async () => {
		const t = start(await signedInStore());
		await t.waitReady('main:users');
		t.kill('SIGTERM');
		await t.exited;
		expect(t.alternate()).toBe(false);
	});

	it('Ctrl-C quits, and asks first when a form has typed input', async () => {
		const t = start(await signedInStore());
		await t.waitReady('main:users');
		await t.press('shift-tab');
		await t.waitReady('main:account');
		await t.press('p');
		await t.waitFor('Current password');
		await t.type('abc');
		// The three masked characters on screen: the form has them (under load a key can outrun the frame).
		await t.waitFor(/Current password\s+\S{3}/);
		await t.press('ctrl-c');
		await t.waitFor('Quit anyway? [y/N]');
		await t.press('n');
		await t.waitFor(s => !s.includes('Quit anyway'));
		await t.press('ctrl-c');
		await t.waitFor('Quit anyway? [y/N]');
		await t.press('y');
		expect((await t.exited).exitCode).toBe(0);
		expect(t.alternate()).toBe(false);
	});
});
