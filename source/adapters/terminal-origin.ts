import {hostname} from 'node:os';
import type {TerminalOrigin} from '../core/saml.js';

/**
 * Where a terminal's single sign-on starts, as the code page shows it: this machine's name and the
 * address the SSH session comes from (SSH_CONNECTION, else SSH_CLIENT), or "unknown" for a local terminal.
 */
export function terminalOrigin(env: NodeJS.ProcessEnv = process.env): TerminalOrigin {
	const ssh = (env['SSH_CONNECTION'] ?? env['SSH_CLIENT'] ?? '').trim().split(/\s+/)[0];
	// Whoever runs orgctl sets this environment: the core keeps it only if it is an IP address, and the page says it is the terminal's claim.
	return {host: hostname(), clientAddress: ssh ? ssh : 'unknown'};
}
