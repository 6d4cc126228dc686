import {execFileSync} from 'node:child_process';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {copyToClipboard, osc52} from '../source/adapters/clipboard.js';
import {tempDir} from './helpers/store.js';

const LINK = 'http://localhost:8080/invite/0123456789abcdef0123456789abcdef.secret-part';

function fakeTerminal(isTTY: boolean) {
	const written: string[] = [];
	return {written, output: {isTTY, write: (chunk: string | Uint8Array) => written.push(String(chunk)) > 0}};
}

const sockets: string[] = [];
afterEach(() => {
	for (const socket of sockets.splice(0)) {
		try {
			execFileSync('tmux', ['-S', socket, 'kill-server'], {stdio: 'ignore'});
		} catch {
			// Already gone.
		}
	}
});

describe('copying a link', () => {
	it('writes OSC 52 to a terminal outside tmux', async () => {
		const term = fakeTerminal(true);
		const result = await copyToClipboard(LINK, {env: {}, output: term.output});
		expect(result.via).toEqual(['osc52']);
		expect(term.written).toEqual([`\u001B]52;c;${Buffer.from(LINK).toString('base64')}\u0007`]);
		expect(osc52('a')).toBe('\u001B]52;c;YQ==\u0007');
	});

	it('reaches nothing without a terminal, tmux or display, and says so', async () => {
		const term = fakeTerminal(false);
		expect((await copyToClipboard(LINK, {env: {}, output: term.output})).via).toEqual([]);
		expect(term.written).toEqual([]);
	});

	it('loads the tmux buffer inside tmux instead of an OSC 52 that tmux would drop', async () => {
		const socket = join(tempDir(), 'tmux.sock');
		sockets.push(socket);
		execFileSync('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24'], {stdio: 'ignore'});
		const term = fakeTerminal(true);
		const result = await copyToClipboard(LINK, {env: {...process.env, TMUX: `${socket},1,0`, DISPLAY: '', WAYLAND_DISPLAY: ''}, output: term.output});
		expect(result.via).toEqual(['tmux']);
		expect(term.written).toEqual([]);
		expect(execFileSync('tmux', ['-S', socket, 'show-buffer'], {encoding: 'utf8'})).toBe(LINK);
	});
});
