import {hostname} from 'node:os';
import type {TerminalOrigin} from '../core/saml.js';

/**
 * Where a terminal's single sign-on starts, as the code page shows it: this machine's name and the
 * address the SSH session comes from (SSH_CONNECTION, else SSH_CLIENT), or a word for a local terminal.
 */
export function terminalOrigin(env: NodeJS.ProcessEnv = process.env): TerminalOrigin {
	const ssh = (env['SSH_CONNECTION'] ?? env['SSH_CLIENT'] ?? '').trim().split(/\s+/)[0];
	return {host: hostname(), clientAddress: ssh ? ssh : 'this machine (not over SSH)'};
}
